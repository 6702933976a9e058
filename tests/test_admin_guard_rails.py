"""An admin's own account gets the checks of `PATCH /users/me`, and the last active
superuser cannot be removed through the HTTP API (attacks and accidents alike)."""

import asyncio
from typing import Any

import pytest

from tests.conftest import PASSWORD, Host


async def superuser(h: Host, email: str = "root@example.com") -> tuple[Any, dict[str, str]]:
    user = await h.kit.users.create(email=email, password=PASSWORD, is_superuser=True)
    return user, {"Authorization": f"Bearer {await h.login(email)}"}


class TestOwnAccountThroughTheAdminRoute:
    """A stolen admin token changed the admin's password or address through
    `PATCH /users/{own id}` without the current password `PATCH /users/me` asks for."""

    @pytest.mark.parametrize(
        "change", [{"password": "taken over for good"}, {"email": "mallory@evil.example"}]
    )
    async def test_needs_the_current_password(self, host: Host, change: dict[str, str]) -> None:
        root, headers = await superuser(host)
        r = await host.client.patch(f"/users/{root.id}", json=change, headers=headers)
        assert r.json() == {"detail": "CURRENT_PASSWORD_INVALID"}
        r = await host.client.patch(
            f"/users/{root.id}", json={**change, "current_password": "wrong one"}, headers=headers
        )
        assert r.json() == {"detail": "CURRENT_PASSWORD_INVALID"}
        assert await host.login("root@example.com")  # nothing changed
        r = await host.client.patch(
            f"/users/{root.id}", json={**change, "current_password": PASSWORD}, headers=headers
        )
        assert r.status_code == 200, r.text

    async def test_with_the_password_it_keeps_this_session_and_ends_the_others(
        self, host: Host
    ) -> None:
        root, headers = await superuser(host)
        other = {"Authorization": f"Bearer {await host.login('root@example.com')}"}
        r = await host.client.patch(
            f"/users/{root.id}",
            json={"password": "a new admin passphrase", "current_password": PASSWORD},
            headers=headers,
        )
        assert r.status_code == 200
        assert (await host.client.get("/users/me", headers=other)).status_code == 401

    async def test_other_users_need_no_current_password(self, host: Host) -> None:
        _, headers = await superuser(host)
        await host.register("bob@example.com")
        bob = await host.kit.users.get_by_email("bob@example.com")
        r = await host.client.patch(
            f"/users/{bob.id}", json={"password": "reset by the admin"}, headers=headers
        )
        assert r.status_code == 200


class TestLastSuperuser:
    """The last superuser could demote, deactivate or delete itself."""

    @pytest.mark.parametrize("change", [{"is_superuser": False}, {"is_active": False}])
    async def test_cannot_remove_itself(self, host: Host, change: dict[str, bool]) -> None:
        root, headers = await superuser(host)
        r = await host.client.patch(f"/users/{root.id}", json=change, headers=headers)
        assert (r.status_code, r.json()) == (400, {"detail": "LAST_SUPERUSER"})
        assert (await host.kit.users.get(root.id)).is_superuser is True

    async def test_cannot_delete_itself(self, host: Host) -> None:
        root, headers = await superuser(host)
        r = await host.client.delete(f"/users/{root.id}", headers=headers)
        assert r.json() == {"detail": "LAST_SUPERUSER"}
        r = await host.client.request(
            "DELETE", "/users/me", json={"current_password": PASSWORD}, headers=headers
        )
        assert r.json() == {"detail": "LAST_SUPERUSER"}
        assert (await host.kit.users.get(root.id)).is_active

    async def test_one_of_two_steps_down_through_the_other(self, host: Host) -> None:
        root, headers = await superuser(host)
        _, second = await superuser(host, "second@example.com")
        r = await host.client.patch(
            f"/users/{root.id}", json={"is_superuser": False}, headers=headers
        )
        assert (r.status_code, r.json()) == (400, {"detail": "SELF_LOCKOUT"})
        r = await host.client.patch(
            f"/users/{root.id}", json={"is_superuser": False}, headers=second
        )
        assert r.status_code == 200
        assert r.json()["is_superuser"] is False

    async def test_two_demoting_each_other_at_once_leave_one(self, host: Host) -> None:
        a, a_headers = await superuser(host, "a@example.com")
        b, b_headers = await superuser(host, "b@example.com")
        answers = await asyncio.gather(
            host.client.patch(f"/users/{b.id}", json={"is_superuser": False}, headers=a_headers),
            host.client.patch(f"/users/{a.id}", json={"is_superuser": False}, headers=b_headers),
        )
        codes = sorted(r.status_code for r in answers)
        assert codes in ([200, 400], [200, 403]), [r.text for r in answers]
        left = [await host.kit.users.get(a.id), await host.kit.users.get(b.id)]
        assert sum(u.is_superuser for u in left) == 1

    async def test_demoting_themselves_at_once_is_refused_to_both(self, host: Host) -> None:
        a, a_headers = await superuser(host, "a@example.com")
        b, b_headers = await superuser(host, "b@example.com")
        answers = await asyncio.gather(
            host.client.patch(f"/users/{a.id}", json={"is_superuser": False}, headers=a_headers),
            host.client.patch(f"/users/{b.id}", json={"is_superuser": False}, headers=b_headers),
        )
        assert [r.json() for r in answers] == [{"detail": "SELF_LOCKOUT"}] * 2
        left = [await host.kit.users.get(a.id), await host.kit.users.get(b.id)]
        assert sum(u.is_superuser for u in left) == 2
