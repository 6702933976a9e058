import pytest

from fastapi_userkit import UserKitHooks
from tests.conftest import PASSWORD, Host


async def _patch(h: Host, headers: dict[str, str], body: dict[str, object]):  # type: ignore[no-untyped-def]
    return await h.client.patch("/users/me", headers=headers, json=body)


class TestPatchMe:
    @pytest.mark.parametrize(
        "field",
        [
            "is_superuser",
            "is_active",
            "is_verified",
            "id",
            "hashed_password",
            "email_key",
            "token_version",
            "unknown",
        ],
    )
    async def test_privileged_fields_are_422_and_not_applied(self, host: Host, field: str) -> None:
        headers = await host.headers()
        response = await _patch(host, headers, {field: True, "current_password": PASSWORD})
        assert response.status_code == 422
        user = await host.kit.users.get_by_email("alice@example.com")
        assert user.is_superuser is False
        assert user.is_active is True
        assert user.token_version == 0

    async def test_email_change_needs_current_password(self, host: Host) -> None:
        headers = await host.headers()
        for body in (
            {"email": "new@example.com"},
            {"email": "new@example.com", "current_password": "wrong one"},
            {"email": "new@example.com", "current_password": None},
        ):
            response = await _patch(host, headers, body)
            assert response.status_code == 400
            assert response.json() == {"detail": "CURRENT_PASSWORD_INVALID"}
        assert (await host.kit.users.get_by_email("alice@example.com")).email == "alice@example.com"

    async def test_email_change_clears_verified(self, host: Host) -> None:
        await host.kit.users.create(email="alice@example.com", password=PASSWORD, is_verified=True)
        headers = {"Authorization": f"Bearer {await host.login()}"}
        response = await _patch(
            host, headers, {"email": "New@Example.com", "current_password": PASSWORD}
        )
        assert response.status_code == 200
        assert response.json()["email"] == "New@example.com"
        assert response.json()["is_verified"] is False
        assert await host.login("new@example.com")
        assert (await host.client.get("/users/me", headers=headers)).status_code == 200

    async def test_same_email_in_other_case_must_be_verified_again(self, host: Host) -> None:
        # Any change of the stored address clears `is_verified`: the kit does not
        # decide which spellings reach the same mailbox.
        await host.kit.users.create(email="alice@example.com", password=PASSWORD, is_verified=True)
        headers = {"Authorization": f"Bearer {await host.login()}"}
        response = await _patch(
            host, headers, {"email": "ALICE@example.com", "current_password": PASSWORD}
        )
        assert response.status_code == 200
        assert response.json()["email"] == "ALICE@example.com"
        assert response.json()["is_verified"] is False

    async def test_email_taken(self, host: Host) -> None:
        await host.register("bob@example.com")
        headers = await host.headers()
        response = await _patch(
            host, headers, {"email": "BOB@example.com", "current_password": PASSWORD}
        )
        assert response.status_code == 400
        assert response.json() == {"detail": "UPDATE_USER_EMAIL_ALREADY_EXISTS"}

    async def test_password_change(self, host: Host) -> None:
        headers = await host.headers()
        response = await _patch(
            host, headers, {"password": "another good one", "current_password": PASSWORD}
        )
        assert response.status_code == 200
        # every token issued before the change is dead, including this one
        assert (await host.client.get("/users/me", headers=headers)).status_code == 401
        assert await host.login(password="another good one")
        bad = await host.client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
        )
        assert bad.status_code == 400

    async def test_invalid_new_password_applies_nothing(self, host: Host) -> None:
        headers = await host.headers()
        response = await _patch(
            host,
            headers,
            {"password": "short", "email": "n@example.com", "current_password": PASSWORD},
        )
        assert response.status_code == 400
        assert response.json() == {
            "detail": {
                "code": "UPDATE_USER_INVALID_PASSWORD",
                "reason": ["Password must be at least 8 characters long."],
            }
        }
        assert (await host.client.get("/users/me", headers=headers)).json()["email"] == (
            "alice@example.com"
        )

    async def test_wrong_current_password_applies_nothing(self, host: Host) -> None:
        headers = await host.headers()
        response = await _patch(
            host, headers, {"password": "another good one", "current_password": "not it at all"}
        )
        assert response.status_code == 400
        assert await host.login()

    async def test_empty_patch_is_a_no_op(self, host: Host) -> None:
        headers = await host.headers()
        response = await _patch(host, headers, {})
        assert response.status_code == 200
        assert response.json()["email"] == "alice@example.com"

    @pytest.mark.parametrize("body", [b"{", b"[]", b"null", b'{"email": 5}', b'"x"'])
    async def test_malformed_bodies(self, host: Host, body: bytes) -> None:
        headers = await host.headers()
        response = await host.client.patch(
            "/users/me", content=body, headers={**headers, "content-type": "application/json"}
        )
        assert response.status_code == 422

    async def test_unauthenticated(self, host: Host) -> None:
        assert (await _patch(host, {}, {})).status_code == 401

    async def test_on_after_update_hook(self, make_host) -> None:  # type: ignore[no-untyped-def]
        seen: list[dict[str, object]] = []

        class Hooks(UserKitHooks):
            async def on_after_update(self, user, update_dict, request=None):  # type: ignore[no-untyped-def]
                seen.append(update_dict)

        h: Host = await make_host(hooks=Hooks())
        headers = await h.headers()
        await _patch(
            h,
            headers,
            {"email": "x@example.com", "password": "yet another one", "current_password": PASSWORD},
        )
        assert seen == [{"email": "x@example.com", "password_changed": True}]
        assert "yet another one" not in repr(seen)
