"""The seams a host can fill: its own user store, password hashers and password
policy, and the route groups it leaves out."""

from typing import Any

import pytest
from fastapi import FastAPI

from fastapi_userkit import (
    BcryptHasher,
    ConfigurationError,
    PasswordPolicy,
    SQLAlchemyUserStore,
    UnitOfWork,
    include_user_router,
)
from fastapi_userkit.db.default import User
from fastapi_userkit.policy import length_rule
from tests.conftest import PASSWORD, Host


class RecordingStore(SQLAlchemyUserStore[Any]):
    """A host's own store: the default one, recording which methods ran."""

    calls: list[str] = []  # noqa: RUF012 - shared on purpose: one list per test run

    async def get_by_email(self, email: str) -> Any:
        self.calls.append("get_by_email")
        return await super().get_by_email(email)

    async def create(self, values: dict[str, Any]) -> Any:
        self.calls.append("create")
        return await super().create(values)


async def test_the_hosts_user_store_is_used(make_host: Any) -> None:
    RecordingStore.calls = []
    h: Host = await make_host(user_store=lambda uow: RecordingStore(uow.session, User))
    headers = await h.headers()
    assert (await h.client.get("/users/me", headers=headers)).status_code == 200
    assert "create" in RecordingStore.calls
    assert "get_by_email" in RecordingStore.calls
    await h.kit.users.get_by_email("alice@example.com")  # kit.users goes through it too
    assert RecordingStore.calls.count("get_by_email") >= 3


class MarkedHasher(BcryptHasher):
    """bcrypt, under a prefix of its own: new hashes must be the host's."""

    prefix = "host-bcrypt$"

    def identify(self, hashed: str) -> bool:
        return hashed.startswith(self.prefix)

    def hash(self, password: str) -> str:
        return self.prefix + super().hash(password)

    def verify(self, password: str, hashed: str) -> bool:
        return self.identify(hashed) and super().verify(password, hashed[len(self.prefix) :])

    def needs_rehash(self, hashed: str) -> bool:
        return False


async def test_the_hosts_hashers_write_and_old_hashes_upgrade(make_host: Any) -> None:
    h: Host = await make_host(password_hashers=[MarkedHasher(4), BcryptHasher(4)])
    assert (await h.register()).status_code == 201
    stored = (await h.kit.users.get_by_email("alice@example.com")).hashed_password
    assert stored.startswith("host-bcrypt$")
    assert await h.login()
    # a hash of the kit's default hasher verifies and is replaced at the next login
    old = await h.kit.users.create(email="old@example.com", password=PASSWORD)
    async with h.kit.database.open() as uow:
        row = await h.kit._parts.accounts.users(uow).get(old.id)
        await h.kit._parts.accounts.users(uow).update(
            row, {"hashed_password": BcryptHasher(4).hash(PASSWORD)}
        )
        await uow.commit()
    assert await h.login("old@example.com")
    upgraded = (await h.kit.users.get(old.id)).hashed_password
    assert upgraded.startswith("host-bcrypt$")


async def test_the_hosts_policy_replaces_the_default(make_host: Any) -> None:
    policy = PasswordPolicy([length_rule(20, 100)])
    h: Host = await make_host(password_policy=policy)
    r = await h.register(password="short but fine")
    assert r.json()["detail"] == {
        "code": "REGISTER_INVALID_PASSWORD",
        "reason": ["Password must be at least 20 characters long."],
    }
    # the default's common-password rule is gone with it
    assert (await h.register(password="passwordpassword1234")).status_code == 201


GROUPS = {
    "admin": {
        ("GET", "/users"),
        ("GET", "/users/{id}"),
        ("PATCH", "/users/{id}"),
        ("DELETE", "/users/{id}"),
    },
    "delete": {("DELETE", "/users/me")},
    "sessions": {("GET", "/auth/sessions"), ("DELETE", "/auth/sessions/{session_id}")},
    "verify": {("POST", "/auth/verify"), ("POST", "/auth/request-verify-token")},
    "reset": {("POST", "/auth/forgot-password"), ("POST", "/auth/reset-password")},
    "email-change": {("POST", "/users/me/email"), ("POST", "/users/me/email/confirm")},
    "cookie": {
        ("POST", "/auth/cookie/login"),
        ("POST", "/auth/cookie/refresh"),
        ("POST", "/auth/cookie/logout"),
        ("POST", "/auth/cookie/reauthenticate"),
    },
}


def _operations(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


@pytest.mark.parametrize("group", sorted(GROUPS))
async def test_a_route_group_can_be_left_out(
    make_host: Any, make_settings: Any, group: str
) -> None:
    settings = make_settings(cookie_transport=True)
    whole: Host = await make_host(settings=settings)
    without: Host = await make_host(settings=settings, exclude={group})
    assert _operations(whole.app) - _operations(without.app) == GROUPS[group]
    # what stays works
    headers = await without.headers()
    assert (await without.client.get("/users/me", headers=headers)).status_code == 200


def test_an_unknown_route_group_is_refused(settings: Any) -> None:
    with pytest.raises(ConfigurationError, match="no route group: admins"):
        include_user_router(FastAPI(), settings=settings, exclude={"admins"})  # type: ignore[arg-type]


async def test_the_unit_of_work_is_what_a_store_gets(make_host: Any) -> None:
    seen: list[Any] = []

    def store(uow: UnitOfWork) -> SQLAlchemyUserStore[Any]:
        seen.append(uow)
        return SQLAlchemyUserStore(uow.session, User)

    h: Host = await make_host(user_store=store)
    await h.register()
    assert seen and all(isinstance(uow, UnitOfWork) for uow in seen)
