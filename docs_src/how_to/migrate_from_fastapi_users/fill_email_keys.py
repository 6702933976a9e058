"""Fill user.email_key and user.email_skeleton as fastapi-userkit computes them.

Usage: python fill_email_keys.py DATABASE_URL, for example
  python fill_email_keys.py "postgresql+asyncpg://user:password@host/dbname"
  python fill_email_keys.py "sqlite+aiosqlite:///./app.db"
"""

import asyncio
import sys
from collections import defaultdict

from sqlalchemy import bindparam, column, select, table, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from fastapi_userkit import canonical_email, email_skeleton

users = table("user", column("id"), column("email"), column("email_key"), column("email_skeleton"))


async def fill_email_keys(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        rows = (await conn.execute(select(users.c.id, users.c.email))).all()
        accounts = defaultdict(list)
        for row in rows:
            accounts[canonical_email(row.email)].append(row.email)
        clashes = [emails for emails in accounts.values() if len(emails) > 1]
        if clashes:
            raise SystemExit(f"These addresses name one account each; merge them: {clashes}")
        # Look-alike addresses share a skeleton; their accounts stay as they are.
        if rows:
            await conn.execute(
                update(users)
                .where(users.c.id == bindparam("user_id"))
                .values(email_key=bindparam("key"), email_skeleton=bindparam("skeleton")),
                [
                    {
                        "user_id": row.id,
                        "key": canonical_email(row.email),
                        "skeleton": email_skeleton(row.email),
                    }
                    for row in rows
                ],
            )


async def main(url: str) -> None:
    engine = create_async_engine(url)
    try:
        await fill_email_keys(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
