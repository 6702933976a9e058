import asyncio

import pytest

from tests.conftest import PASSWORD, Host


class TestRegister:
    async def test_creates_user_and_never_returns_the_hash(self, host: Host) -> None:
        response = await host.register("Alice@Example.com")
        assert response.status_code == 201
        body = response.json()
        assert body["email"] == "Alice@example.com"  # domain normalised, local part kept
        assert body["is_active"] is True
        assert body["is_superuser"] is False
        assert body["is_verified"] is False
        assert set(body) == {"id", "email", "is_active", "is_superuser", "is_verified"}
        assert "hashed_password" not in response.text
        assert PASSWORD not in response.text

    @pytest.mark.parametrize(
        "second",
        [
            pytest.param("alice@example.com", id="same"),
            pytest.param("ALICE@EXAMPLE.COM", id="upper"),
            pytest.param("Alice@Example.Com", id="mixed"),
            pytest.param("\uff41lice@example.com", id="fullwidth-a"),
        ],
    )
    async def test_duplicate_email_is_400(self, host: Host, second: str) -> None:
        assert (await host.register("alice@example.com")).status_code == 201
        response = await host.register(second)
        assert response.status_code == 400
        assert response.json() == {"detail": "REGISTER_USER_ALREADY_EXISTS"}

    async def test_twenty_concurrent_identical_registrations(self, host: Host) -> None:
        responses = await asyncio.gather(*(host.register("race@example.com") for _ in range(20)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [400] * 19
        for response in responses:
            if response.status_code == 400:
                assert response.json() == {"detail": "REGISTER_USER_ALREADY_EXISTS"}
        user = await host.kit.users.get_by_email("RACE@example.com")
        assert user.email == "race@example.com"

    async def test_concurrent_registrations_differing_in_case(self, host: Host) -> None:
        emails = ["case@example.com", "CASE@example.com", "Case@Example.com", "cAsE@example.com"]
        responses = await asyncio.gather(*(host.register(e) for e in emails))
        assert sorted(r.status_code for r in responses) == [201, 400, 400, 400]

    @pytest.mark.parametrize(
        ("password", "reasons"),
        [
            pytest.param("short", ["Password must be at least 8 characters long."], id="short"),
            pytest.param("        ", ["Password must not consist only of whitespace."], id="blank"),
            pytest.param(
                "   ",
                [
                    "Password must be at least 8 characters long.",
                    "Password must not consist only of whitespace.",
                ],
                id="short-and-blank",
            ),
            pytest.param(
                "correct horse battery staple " * 4 + "and thirteen!",
                ["Password must be at most 128 characters long."],
                id="long",
            ),
        ],
    )
    async def test_password_policy_gives_every_reason(
        self, host: Host, password: str, reasons: list[str]
    ) -> None:
        response = await host.register(password=password)
        assert response.status_code == 400
        assert response.json() == {
            "detail": {"code": "REGISTER_INVALID_PASSWORD", "reason": reasons}
        }

    async def test_password_policy_failure_writes_nothing(self, host: Host) -> None:
        assert (await host.register(password="short")).status_code == 400
        assert (await host.register()).status_code == 201

    @pytest.mark.parametrize(
        "field", ["is_superuser", "is_active", "is_verified", "id", "hashed_password", "nope"]
    )
    async def test_privileged_or_unknown_fields_are_422(self, host: Host, field: str) -> None:
        response = await host.register(**{field: True})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", field]
        assert (await host.register()).status_code == 201  # nothing was written
        assert (await host.kit.users.get_by_email("alice@example.com")).is_superuser is False

    @pytest.mark.parametrize(
        "email",
        [
            "not-an-email",
            "",
            "a@b",
            "alice@example.com\x00",
            "'; DROP TABLE user; --@example.com",
            "alice@example.com\r\nBcc: eve@example.com",
            "a" * 320 + "@example.com",
        ],
    )
    async def test_bad_email_is_422(self, host: Host, email: str) -> None:
        response = await host.register(email)
        assert response.status_code == 422

    async def test_host_adds_hook_on_after_register(self, make_host: object) -> None:
        from fastapi_userkit import UserKitHooks

        seen: list[str] = []

        class Hooks(UserKitHooks):
            async def on_after_register(self, user, request=None):  # type: ignore[no-untyped-def]
                seen.append(user.email)
                assert request is not None

        h = await make_host(hooks=Hooks())  # type: ignore[operator]
        assert (await h.register()).status_code == 201
        assert seen == ["alice@example.com"]


class TestRegisterBadInput:
    async def test_one_megabyte_password_is_413(self, host: Host) -> None:
        response = await host.register(password="x" * 1_000_000)
        assert response.status_code == 413
        assert response.json() == {"detail": "REQUEST_TOO_LARGE"}

    async def test_long_password_under_body_limit_is_policy_400(self, host: Host) -> None:
        response = await host.register(password="x" * 60_000)
        assert response.status_code == 400
        assert response.json()["detail"]["code"] == "REGISTER_INVALID_PASSWORD"

    @pytest.mark.parametrize(
        "body",
        [
            b"{",
            b"",
            b"null",
            b"[]",
            b'{"email": ["a@b.c"], "password": "long enough"}',
            b'{"email": "a@example.com", "password": 12345678}',
            b'{"email": "a@example.com", "password": null}',
            b'{"email": "a@example.com"}',
        ],
    )
    async def test_malformed_json_is_422(self, host: Host, body: bytes) -> None:
        response = await host.client.post(
            "/auth/register", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422

    async def test_undecodable_body_is_422(self, host: Host) -> None:
        response = await host.client.post(
            "/auth/register", content=b"\xff\xfe\x00", headers={"content-type": "application/json"}
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "json_invalid"

    async def test_nul_in_password_is_kept(self, host: Host) -> None:
        assert (await host.register(password="owl\x00moth river")).status_code == 201
        assert await host.login(password="owl\x00moth river")
        response = await host.client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": "owl"}
        )
        assert response.status_code == 400
