"""Create the first superuser: python create_superuser.py"""

import asyncio

from myapp.main import kit  # the module that calls include_user_router()


async def main() -> None:
    user = await kit.users.create(
        email="admin@example.com",
        password="a long passphrase",
        is_superuser=True,
        is_verified=True,
    )
    print("created", user.id)
    await kit.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
