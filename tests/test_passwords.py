import asyncio
import threading
import time

import bcrypt
import pytest

from fastapi_userkit import BcryptHasher
from fastapi_userkit.passwords import LegacyBcryptHasher, PasswordHash
from tests.conftest import Host


class TestBcryptHasher:
    def test_hash_format_and_verify(self) -> None:
        hasher = BcryptHasher(rounds=4)
        hashed = hasher.hash("correct horse")
        assert hashed.startswith("bcrypt-sha256$$2b$04$")
        assert hasher.verify("correct horse", hashed)
        assert not hasher.verify("correct horsf", hashed)
        assert not hasher.needs_rehash(hashed)
        assert BcryptHasher(rounds=5).needs_rehash(hashed)

    @pytest.mark.parametrize("length", [73, 128, 1000])
    def test_no_truncation_past_72_bytes(self, length: int) -> None:
        hasher = BcryptHasher(rounds=4)
        password = "p" * length
        hashed = hasher.hash(password)
        assert hasher.verify(password, hashed)
        assert not hasher.verify(password[:-1] + "q", hashed)
        assert not hasher.verify(password[:72], hashed)

    def test_multibyte_and_nul(self) -> None:
        hasher = BcryptHasher(rounds=4)
        password = "пароль\x00密码🔑" * 10  # well past 72 bytes, with a NUL inside
        hashed = hasher.hash(password)
        assert hasher.verify(password, hashed)
        assert not hasher.verify(password.replace("\x00", ""), hashed)

    def test_nfkc_normalisation(self) -> None:
        hasher = BcryptHasher(rounds=4)
        hashed = hasher.hash("caf\u00e9 au lait")  # precomposed é
        assert hasher.verify("cafe\u0301 au lait", hashed)  # e + combining accent

    def test_garbage_hashes_do_not_raise(self) -> None:
        hasher = BcryptHasher(rounds=4)
        for bad in ["", "bcrypt-sha256$", "bcrypt-sha256$nonsense", "$2b$04$short"]:
            assert hasher.verify("x", bad) is False

    def test_legacy_plain_bcrypt(self) -> None:
        legacy = LegacyBcryptHasher()
        hashed = bcrypt.hashpw(b"old password", bcrypt.gensalt(4)).decode()
        assert legacy.identify(hashed)
        assert legacy.verify("old password", hashed)
        assert not legacy.verify("new password", hashed)
        assert legacy.needs_rehash(hashed)
        with pytest.raises(TypeError):
            legacy.hash("x")


class TestPasswordHash:
    async def test_upgrade_legacy_and_cost(self) -> None:
        ph = PasswordHash([BcryptHasher(rounds=5), LegacyBcryptHasher()], concurrency=2)
        legacy = bcrypt.hashpw(b"old password", bcrypt.gensalt(4)).decode()
        valid, new = await ph.verify_and_update("old password", legacy)
        assert valid and new is not None and new.startswith("bcrypt-sha256$$2b$05$")
        cheap = BcryptHasher(rounds=4).hash("pw pw pw pw")
        valid, new = await ph.verify_and_update("pw pw pw pw", cheap)
        assert valid and new is not None and "$05$" in new
        valid, new = await ph.verify_and_update("pw pw pw pw", new)
        assert valid and new is None
        assert await ph.verify_and_update("wrong", cheap) == (False, None)
        assert await ph.verify_and_update("x", "argon2$unknown") == (False, None)

    async def test_runs_off_the_loop_and_is_bounded(self) -> None:
        active = 0
        peak = 0
        lock = threading.Lock()
        loop_thread = threading.get_ident()

        class SlowHasher(BcryptHasher):
            def hash(self, password: str) -> str:
                nonlocal active, peak
                assert threading.get_ident() != loop_thread
                with lock:
                    active += 1
                    peak = max(peak, active)
                time.sleep(0.02)
                with lock:
                    active -= 1
                return "bcrypt-sha256$x"

        ph = PasswordHash([SlowHasher(rounds=4)], concurrency=2)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            for _ in range(10):
                await asyncio.sleep(0.005)
                ticks += 1

        await asyncio.gather(ticker(), *(ph.hash("x") for _ in range(8)))
        assert peak == 2
        assert ticks == 10  # the loop kept running while hashes ran

    def test_needs_a_hasher(self) -> None:
        with pytest.raises(ValueError, match="at least one"):
            PasswordHash([], concurrency=1)


class TestThroughTheApi:
    @pytest.mark.parametrize(
        "password",
        [
            pytest.param("x" * 72 + "tail", id="76-ascii"),
            pytest.param("éàüöçñøåæð" * 10, id="200-bytes-utf8"),
            pytest.param("🔑🐍🎲🌵🚀🎈🍀🦉" * 16, id="128-emoji-512-bytes"),
            pytest.param("pass\x00word\x00", id="nul-bytes"),
            pytest.param("' OR '1'='1'; --", id="sql-looking"),
        ],
    )
    async def test_any_password_up_to_the_maximum(self, host: Host, password: str) -> None:
        assert (await host.register(password=password)).status_code == 201
        assert await host.login(password=password)
        if len(password.encode()) > 72:
            truncated = password.encode()[:72].decode(errors="ignore")
            response = await host.client.post(
                "/auth/jwt/login", json={"email": "alice@example.com", "password": truncated}
            )
            assert response.status_code == 400

    async def test_legacy_hash_upgraded_on_login(self, host: Host) -> None:
        user = await host.kit.users.create(email="old@example.com", password="whatever it was")
        legacy = bcrypt.hashpw(b"fastapi-users password", bcrypt.gensalt(4)).decode()
        async with host.kit.database.open() as uow:
            row = await host.kit._parts.accounts.users(uow).get(user.id)
            assert row is not None
            row.hashed_password = legacy
            await uow.commit()
        assert await host.login("old@example.com", "fastapi-users password")
        upgraded = await host.kit.users.get(user.id)
        assert upgraded.hashed_password.startswith("bcrypt-sha256$$2b$04$")
        assert await host.login("old@example.com", "fastapi-users password")

    async def test_cost_change_rehashes_on_login(self, make_host, make_settings) -> None:  # type: ignore[no-untyped-def]
        a: Host = await make_host()
        await a.register()
        b: Host = await make_host(settings=make_settings(bcrypt_rounds=5))
        assert await b.login()
        user = await b.kit.users.get_by_email("alice@example.com")
        assert user.hashed_password.startswith("bcrypt-sha256$$2b$05$")

    async def test_hash_never_leaves_the_api(self, host: Host) -> None:
        headers = await host.headers()
        me = await host.client.get("/users/me", headers=headers)
        assert "hashed_password" not in me.text and "bcrypt" not in me.text
        schema = (await host.client.get("/openapi.json")).text
        assert "hashed_password" not in schema
