"""Benchmark: cost of an authenticated request, and event-loop stalls during logins.

Run from the repository root::

    .venv/bin/python benchmarks/current_user.py

The script starts the app below under uvicorn (one worker, loopback only, a
SQLite database in a temporary directory, bcrypt cost 12), registers one user,
logs in, and then prints two figures as ratios, because the machine it runs on
may be shared and noisy:

1. requests/s of an authenticated ``GET /users/me`` against a bare endpoint of
   the same app, driven by one keep-alive ``httpx.AsyncClient`` at a fixed
   concurrency, interleaved in rounds so noise hits both endpoints alike; plus
   the server's CPU time per request when ``/proc`` is available (the client
   shares the machine, so the CPU ratio is the less client-bound of the two);
2. latency of the bare endpoint, polled one request at a time, while a burst of
   concurrent logins hashes passwords, against the same poll when idle.

It asserts nothing: it prints figures. Every loop is bounded in count and time,
and the server is stopped whatever happens.
"""

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from fastapi_userkit import UserKitSettings, include_user_router

HOST = "127.0.0.1"
BCRYPT_ROUNDS = 12

# Part 1: throughput.
CONCURRENCY = 16
REQUESTS_PER_ENDPOINT = 3000
ROUNDS = 10
WARMUP_REQUESTS = 200
THROUGHPUT_TIME_CAP = 60.0  # seconds, warm-up and all rounds together

# Part 2: stalls during logins.
LOGINS = 20
POLL_INTERVAL = 0.010  # seconds between two polls of /bare
IDLE_POLLS = 200
IDLE_TIME_CAP = 5.0
BURST_MAX_POLLS = 5000
BURST_TIME_CAP = 90.0

REQUEST_TIMEOUT = 10.0
LOGIN_TIMEOUT = 60.0
STARTUP_TIME_CAP = 30.0
SHUTDOWN_TIME_CAP = 10.0
START_ATTEMPTS = 3

# Figures reported for the leading competitor (fastapi-users); not measured here.
REFERENCE_ME_VS_BARE = "about 5% of bare"
REFERENCE_STALL = "about 100 ms stalls of unrelated requests during logins"


def create_app() -> FastAPI:
    """The benchmarked app: the kit (settings from ``USERKIT_*``) and one bare endpoint."""
    app = FastAPI()
    include_user_router(app, settings=UserKitSettings())

    @app.get("/bare")
    async def bare() -> dict[str, bool]:
        return {"ok": True}

    return app


# --------------------------------------------------------------------------- server


@dataclass
class Server:
    """A uvicorn subprocess serving `create_app` on loopback."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the server process (Linux ``/proc`` only)."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=SHUTDOWN_TIME_CAP)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=SHUTDOWN_TIME_CAP)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USERKIT_")}
    env["USERKIT_SECRET_KEY"] = secrets.token_hex(32)
    env["USERKIT_BCRYPT_ROUNDS"] = str(BCRYPT_ROUNDS)
    env["USERKIT_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    # 20 simultaneous logins of one account would trip the login limits: measure hashing
    env["USERKIT_RATE_LIMIT_ENABLED"] = "false"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def launch(workdir: Path, env: dict[str, str], attempt: int) -> Server:
    port = free_port()
    log_path = workdir / f"uvicorn-{attempt}.log"
    bench_dir = Path(__file__).resolve().parent
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "current_user:create_app",
        "--factory",
        "--app-dir",
        str(bench_dir),
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=bench_dir.parent,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Server(process=process, base_url=f"http://{HOST}:{port}", log_path=log_path)


def wait_ready(server: Server) -> bool:
    deadline = time.monotonic() + STARTUP_TIME_CAP
    with httpx.Client(base_url=server.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                return False
            try:
                if client.get("/bare").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    return False


# --------------------------------------------------------------------------- part 1


@dataclass
class Tally:
    """Requests, errors, wall time and server CPU time spent on one endpoint."""

    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_per_request_us(self) -> float:
        return self.server_cpu / self.ok * 1e6 if self.ok else 0.0


async def drive(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    count: int,
    deadline: float,
    tally: Tally | None,
) -> None:
    """Send up to *count* GETs of *path* with `CONCURRENCY` workers, until *deadline*."""
    remaining = count
    ok = errors = 0
    samples: list[str] = []

    async def worker() -> None:
        nonlocal remaining, ok, errors
        while remaining > 0 and time.monotonic() < deadline:
            remaining -= 1
            try:
                response = await client.get(path, headers=headers)
            except httpx.HTTPError as exc:
                errors += 1
                if len(samples) < 3:
                    samples.append(repr(exc))
                continue
            if response.status_code == 200:
                ok += 1
            else:
                errors += 1
                if len(samples) < 3:
                    samples.append(f"{response.status_code} {response.text[:120]}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    if tally is not None:
        tally.ok += ok
        tally.errors += errors
        tally.seconds += elapsed
        tally.error_samples.extend(samples[: 3 - len(tally.error_samples)])


async def measure_throughput(server: Server, token: str) -> dict[str, Tally]:
    auth = {"Authorization": f"Bearer {token}"}
    endpoints: dict[str, tuple[str, dict[str, str]]] = {
        "bare": ("/bare", {}),
        "me": ("/users/me", auth),
    }
    tallies = {name: Tally() for name in endpoints}
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    deadline = time.monotonic() + THROUGHPUT_TIME_CAP
    per_round = REQUESTS_PER_ENDPOINT // ROUNDS
    async with httpx.AsyncClient(
        base_url=server.base_url, limits=limits, timeout=REQUEST_TIMEOUT
    ) as client:
        for path, headers in endpoints.values():
            await drive(client, path, headers, WARMUP_REQUESTS, deadline, None)
        for round_no in range(ROUNDS):
            order = list(endpoints) if round_no % 2 == 0 else list(reversed(endpoints))
            for name in order:
                if time.monotonic() >= deadline:
                    break
                path, headers = endpoints[name]
                cpu_before = server.cpu_seconds()
                await drive(client, path, headers, per_round, deadline, tallies[name])
                cpu_after = server.cpu_seconds()
                if cpu_before is not None and cpu_after is not None:
                    tallies[name].server_cpu += cpu_after - cpu_before
    return tallies


# --------------------------------------------------------------------------- part 2


@dataclass
class Poll:
    """Latencies of sequential `/bare` polls, in seconds."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0


async def poll_bare(
    client: httpx.AsyncClient, stop: asyncio.Event, max_polls: int, deadline: float
) -> Poll:
    result = Poll()
    while not stop.is_set() and len(result.latencies) < max_polls:
        if time.monotonic() >= deadline:
            break
        started = time.perf_counter()
        try:
            response = await client.get("/bare")
            if response.status_code != 200:
                result.errors += 1
        except httpx.HTTPError:
            result.errors += 1
        result.latencies.append(time.perf_counter() - started)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=POLL_INTERVAL)
    return result


@dataclass
class Burst:
    """Outcome of the concurrent logins and the polls made meanwhile."""

    idle: Poll
    busy: Poll
    wall: float
    login_latencies: list[float]
    logins_ok: int
    login_errors: list[str]


async def login(client: httpx.AsyncClient, email: str, password: str) -> tuple[float, str | None]:
    started = time.perf_counter()
    try:
        response = await client.post(
            "/auth/jwt/login", data={"username": email, "password": password}
        )
    except httpx.HTTPError as exc:
        return time.perf_counter() - started, repr(exc)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        return elapsed, f"{response.status_code} {response.text[:120]}"
    return elapsed, None


async def measure_login_stall(server: Server, email: str, password: str) -> Burst:
    poll_limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    login_limits = httpx.Limits(max_connections=LOGINS, max_keepalive_connections=LOGINS)
    async with (
        httpx.AsyncClient(
            base_url=server.base_url, limits=poll_limits, timeout=REQUEST_TIMEOUT
        ) as poller,
        httpx.AsyncClient(
            base_url=server.base_url, limits=login_limits, timeout=LOGIN_TIMEOUT
        ) as loginer,
    ):
        idle = await poll_bare(
            poller, asyncio.Event(), IDLE_POLLS, time.monotonic() + IDLE_TIME_CAP
        )

        stop = asyncio.Event()
        poll_task = asyncio.create_task(
            poll_bare(poller, stop, BURST_MAX_POLLS, time.monotonic() + BURST_TIME_CAP)
        )
        await asyncio.sleep(POLL_INTERVAL)  # let the poller's first request go out
        started = time.perf_counter()
        try:
            outcomes: Sequence[tuple[float, str | None]] = await asyncio.wait_for(
                asyncio.gather(*(login(loginer, email, password) for _ in range(LOGINS))),
                timeout=BURST_TIME_CAP,
            )
        except TimeoutError:
            outcomes = []
        wall = time.perf_counter() - started
        stop.set()
        busy = await poll_task

    errors = [error for _, error in outcomes if error is not None]
    if len(outcomes) < LOGINS:
        errors.append(f"burst cut off after {BURST_TIME_CAP:.0f} s")
    return Burst(
        idle=idle,
        busy=busy,
        wall=wall,
        login_latencies=[latency for latency, _ in outcomes],
        logins_ok=sum(error is None for _, error in outcomes),
        login_errors=errors,
    )


# --------------------------------------------------------------------------- report


async def register_and_login(server: Server, email: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=LOGIN_TIMEOUT) as client:
        response = await client.post("/auth/register", json={"email": email, "password": password})
        if response.status_code != 201:
            raise RuntimeError(f"register: {response.status_code} {response.text[:200]}")
        response = await client.post(
            "/auth/jwt/login", data={"username": email, "password": password}
        )
        if response.status_code != 200:
            raise RuntimeError(f"login: {response.status_code} {response.text[:200]}")
        token: str = response.json()["access_token"]
        response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 200:
            raise RuntimeError(f"/users/me: {response.status_code} {response.text[:200]}")
        return token


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def describe(poll: Poll) -> str:
    if not poll.latencies:
        return "no samples"
    ordered = sorted(poll.latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"median {ms(statistics.median(ordered))}, p95 {ms(p95)}, max {ms(ordered[-1])}"
        f"  ({len(ordered)} polls, {poll.errors} errors)"
    )


def report_throughput(tallies: dict[str, Tally]) -> None:
    bare, me = tallies["bare"], tallies["me"]
    print(f"\n1. Throughput, concurrency {CONCURRENCY}, {ROUNDS} interleaved rounds")
    for path, tally in (("/bare", bare), ("/users/me", me)):
        errors = f", {tally.errors} errors" if tally.errors else ""
        print(
            f"   GET {path:<10} {tally.rate:8.0f} req/s"
            f"  ({tally.ok} ok in {tally.seconds:5.2f} s{errors})"
        )
        for sample in tally.error_samples:
            print(f"      e.g. {sample}")
    if bare.rate > 0:
        print(f"   /users/me vs /bare: {me.rate / bare.rate:6.1%} of bare throughput")
    if bare.server_cpu > 0 and me.server_cpu > 0:
        print(
            f"   server CPU per request: bare {bare.cpu_per_request_us:6.0f} us,"
            f" me {me.cpu_per_request_us:6.0f} us"
            f"  -> server-bound ratio {bare.cpu_per_request_us / me.cpu_per_request_us:6.1%}"
        )
    print(f"   reference, fastapi-users: {REFERENCE_ME_VS_BARE}")


def report_burst(burst: Burst) -> None:
    print(f"\n2. /bare polled every {POLL_INTERVAL * 1000:.0f} ms, one request at a time")
    print(f"   idle:                      {describe(burst.idle)}")
    print(f"   during {LOGINS} logins (cost {BCRYPT_ROUNDS}): {describe(burst.busy)}")
    if burst.idle.latencies and burst.busy.latencies:
        extra = max(burst.busy.latencies) - statistics.median(burst.idle.latencies)
        print(f"   worst stall beyond idle median: {ms(extra)}")
    print(f"   {burst.logins_ok}/{LOGINS} logins ok, all done in {burst.wall:.2f} s wall", end="")
    if burst.login_latencies:
        ordered = sorted(burst.login_latencies)
        print(
            f" (per login: min {ordered[0]:.2f} s,"
            f" median {statistics.median(ordered):.2f} s, max {ordered[-1]:.2f} s)"
        )
    else:
        print()
    for error in burst.login_errors[:3]:
        print(f"      e.g. {error}")
    print(f"   reference, fastapi-users: {REFERENCE_STALL}")


async def run_benchmarks(server: Server) -> None:
    email = f"bench-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(18)
    token = await register_and_login(server, email, password)
    report_throughput(await measure_throughput(server, token))
    report_burst(await measure_login_stall(server, email, password))


def machine_summary(env: dict[str, str]) -> str:
    keys: dict[str, Any] = {
        "secret_key": env["USERKIT_SECRET_KEY"],
        "bcrypt_rounds": BCRYPT_ROUNDS,
        "database_url": env["USERKIT_DATABASE_URL"],
    }
    settings = UserKitSettings(**keys)
    return (
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs,"
        f" bcrypt cost {settings.bcrypt_rounds}, hash concurrency {settings.hash_concurrency},"
        f" SQLite, uvicorn 1 worker on {HOST}"
    )


def exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the `finally` that stops the server


def main() -> int:
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="userkit-bench-") as tmp:
        workdir = Path(tmp)
        env = server_env(workdir)
        print(f"fastapi-userkit benchmark: {machine_summary(env)}")
        server: Server | None = None
        try:
            for attempt in range(START_ATTEMPTS):
                server = launch(workdir, env, attempt)
                if wait_ready(server):
                    break
                server.stop()
                print(f"uvicorn did not start (attempt {attempt + 1}):\n{server.log_tail()}")
                server = None
            if server is None:
                print("giving up: the server never answered")
                return 1
            try:
                asyncio.run(run_benchmarks(server))
            except RuntimeError as exc:
                print(f"setup failed: {exc}\n{server.log_tail()}")
                return 1
        finally:
            if server is not None:
                server.stop()
    print(f"\ntotal run time {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
