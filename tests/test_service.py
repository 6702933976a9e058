import pytest
from pydantic import ValidationError

from fastapi_userkit import (
    InvalidPasswordError,
    UserAlreadyExistsError,
    UserKitHooks,
    UserNotFoundError,
)
from tests.conftest import PASSWORD, Host


async def test_create_get_authenticate_set_password(host: Host) -> None:
    users = host.kit.users
    admin = await users.create(
        email="Admin@Example.com", password=PASSWORD, is_superuser=True, is_verified=True
    )
    assert admin.is_superuser and admin.is_verified and admin.is_active
    assert admin.email == "Admin@example.com"
    assert (await users.get(admin.id)).email == "Admin@example.com"
    assert (await users.get_by_email("ADMIN@example.com")).id == admin.id
    assert (await users.authenticate("admin@example.com", PASSWORD)) is not None
    assert (await users.authenticate("admin@example.com", "wrong password")) is None
    assert (await users.authenticate("ghost@example.com", PASSWORD)) is None
    updated = await users.set_password(admin.id, "a new password")
    assert updated.token_version == 1
    assert await users.authenticate("admin@example.com", "a new password") is not None
    assert await host.login("admin@example.com", "a new password")


async def test_errors(host: Host) -> None:
    users = host.kit.users
    await users.create(email="a@example.com", password=PASSWORD)
    with pytest.raises(UserAlreadyExistsError):
        await users.create(email="A@EXAMPLE.COM", password=PASSWORD)
    with pytest.raises(InvalidPasswordError) as info:
        await users.create(email="b@example.com", password="  ")
    assert len(info.value.reasons) == 2
    with pytest.raises(ValidationError):
        await users.create(email="not an email", password=PASSWORD)
    with pytest.raises(UserNotFoundError):
        await users.get(__import__("uuid").uuid4())
    with pytest.raises(UserNotFoundError):
        await users.get_by_email("nobody@example.com")
    with pytest.raises(UserNotFoundError):
        await users.set_password(__import__("uuid").uuid4(), PASSWORD)


async def test_create_fires_after_register_hook(make_host) -> None:  # type: ignore[no-untyped-def]
    seen: list[object] = []

    class Hooks(UserKitHooks):
        async def on_after_register(self, user, request=None):  # type: ignore[no-untyped-def]
            seen.append((user.email, request))

    h: Host = await make_host(hooks=Hooks())
    await h.kit.users.create(email="h@example.com", password=PASSWORD)
    assert seen == [("h@example.com", None)]


async def test_host_fields_are_stored(host: Host) -> None:
    with pytest.raises(TypeError):
        await host.kit.users.create(email="c@example.com", password=PASSWORD, nope=1)
