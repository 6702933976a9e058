"""Add a user with a display name: python -m myapp.seed"""

import asyncio

from myapp.main import kit
from myapp.models import User


async def add_ada() -> User:
    user = await kit.users.create(
        email="ada@example.com", password="a long passphrase", display_name="Ada"
    )
    await kit.shutdown()
    return user


if __name__ == "__main__":
    print("created", asyncio.run(add_ada()).id)
