"""Timing parity of login and forgot-password for unknown, wrong-password and
inactive accounts.

Prints the median time of each kind over interleaved requests, and each median
as a ratio of the real-account one. Run: `make timing` (or
`python benchmarks/timing.py --requests 200 --rounds 12`). In-process (ASGI), so
the network adds no noise; rate limits are off so every request does its work.
The order of the kinds is shuffled in every round, so no kind always follows a
hash. In-process, the client also waits for the after-response tasks (the e-mail),
which a real client does not: the e-mail sender here is a quiet in-memory one.
"""

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from fastapi_userkit import EmailMessage, EmailSender, UserKitSettings, include_user_router

PASSWORD = "correct horse battery staple"


class QuietSender(EmailSender):
    def __init__(self) -> None:
        self.sent = 0

    async def send(self, message: EmailMessage) -> None:
        self.sent += 1


async def measure(requests: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = UserKitSettings(
            secret_key="timing-benchmark-secret-0123456789abcdef",
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'timing.db'}",
            bcrypt_rounds=rounds,
            rate_limit_enabled=False,
        )
        app = FastAPI()
        kit = include_user_router(app, settings=settings, email_sender=QuietSender())
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://bench"
            ) as client,
        ):
            await kit.users.create(email="real@example.com", password=PASSWORD)
            await kit.users.create(email="off@example.com", password=PASSWORD, is_active=False)
            login_kinds = {
                "unknown e-mail": ("ghost@example.com", PASSWORD),
                "wrong password": ("real@example.com", PASSWORD + "!"),
                "inactive user": ("off@example.com", PASSWORD),
            }
            forgot_kinds = {
                "unknown e-mail": "ghost@example.com",
                "real account": "real@example.com",
                "inactive user": "off@example.com",
            }
            login_times: dict[str, list[float]] = {k: [] for k in login_kinds}
            forgot_times: dict[str, list[float]] = {k: [] for k in forgot_kinds}
            deadline = time.monotonic() + 600
            for _ in range(requests):
                if time.monotonic() > deadline:
                    break
                for kind, (email, password) in random.sample(list(login_kinds.items()), 3):
                    start = time.perf_counter()
                    r = await client.post(
                        "/auth/jwt/login", data={"username": email, "password": password}
                    )
                    login_times[kind].append(time.perf_counter() - start)
                    assert r.status_code == 400, r.text
                for kind, email in random.sample(list(forgot_kinds.items()), 3):
                    start = time.perf_counter()
                    r = await client.post("/auth/forgot-password", json={"email": email})
                    forgot_times[kind].append(time.perf_counter() - start)
                    assert r.status_code == 202, r.text
    report(
        "POST /auth/jwt/login (all answer 400 LOGIN_BAD_CREDENTIALS)", login_times, "wrong password"
    )
    report("POST /auth/forgot-password (all answer 202)", forgot_times, "real account")


def report(title: str, times: dict[str, list[float]], reference: str) -> None:
    base = statistics.median(times[reference])
    print(f"\n{title}")
    for kind, samples in times.items():
        median = statistics.median(samples)
        print(
            f"  {kind:<16} median {median * 1000:8.2f} ms  "
            f"({len(samples)} requests)  ratio to {reference}: {median / base:5.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="requests of each kind")
    parser.add_argument("--rounds", type=int, default=10, help="bcrypt cost (12 in production)")
    args = parser.parse_args()
    print(
        f"timing parity: {args.requests} interleaved requests per kind, bcrypt cost {args.rounds}"
    )
    asyncio.run(measure(args.requests, args.rounds))


if __name__ == "__main__":
    main()
