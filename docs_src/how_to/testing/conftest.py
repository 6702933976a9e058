import os
from collections.abc import AsyncIterator

import httpx
import pytest

from fastapi_userkit import UserKit


def pytest_configure() -> None:
    # Before the tests import the app: a database of their own, in memory, and a
    # cheap hash cost.
    os.environ["USERKIT_DATABASE_URL"] = "sqlite+aiosqlite://"
    os.environ["USERKIT_BCRYPT_ROUNDS"] = "4"


@pytest.fixture
def kit() -> UserKit:
    from myapp.main import kit

    return kit


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    from myapp.main import app

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client
