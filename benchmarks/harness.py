"""Benchmark harness: fastapi-userkit against a bare endpoint and fastapi-users, in one run.

Run from the repository root (``make bench`` does, with ``--write-docs``)::

    .venv/bin/python benchmarks/harness.py [--quick] [--skip-million] [--json PATH]
                                           [--write-docs]

Each app of `apps.py` runs as its own uvicorn process (one worker, loopback only, a free
port), and is stopped by its process id whatever happens. The load comes from ``wrk``
(16 connections, one thread, ``load.lua`` for headers and bodies); where ``wrk`` is missing
and cannot be installed, from an httpx load generator at the same concurrency. The client
shares the machine with the servers, so the results are read as ratios between apps
measured in the same run, interleaved in rounds so that noise hits all of them alike.

Measures: (a) authenticated ``GET /users/me`` on every app and the bare endpoint;
(b) login at bcrypt cost 12 against the hashing capacity, with a ``/ping`` of the same app
polled one request at a time and the server's peak RSS during the flood; (c) registration;
(d) refresh; (e) ``/users/me`` and login on PostgreSQL with 1k, 100k and 1M users.

Every loop is bounded in count and in time, and the whole run by `RUN_TIME_CAP`.
"""

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import asyncpg  # type: ignore[import-untyped]
import bcrypt
import httpx
import redis
from fastapi_users.password import PasswordHelper
from pydantic import SecretStr

from fastapi_userkit import UserKitSettings, canonical_email, email_skeleton
from fastapi_userkit.db.default import User as KitUser

HOST = "127.0.0.1"
CONNECTIONS = 16
WRK_THREADS = 1
BCRYPT_ROUNDS = 12
SETUP_BCRYPT_ROUNDS = 4  # the server run that only issues refresh tokens
PASSWORD = "correct-horse-battery-staple-9"
BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
LUA_SCRIPT = BENCH_DIR / "load.lua"
DOCS_PAGE = ROOT / "docs" / "explanation" / "performance.md"
DEFAULT_JSON = Path(tempfile.gettempdir()) / "fastapi-userkit-bench" / "results.json"
MARK_BEGIN = "<!-- benchmark-results:begin (written by benchmarks/harness.py) -->"
MARK_END = "<!-- benchmark-results:end -->"

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
PG_DSN = "postgresql://postgres@127.0.0.1:5432/{database}"
REDIS_URL = "redis://127.0.0.1:6379/0"

RUN_TIME_CAP = 900.0  # seconds for the whole run; later measures are skipped past it
STARTUP_TIME_CAP = 45.0
SHUTDOWN_TIME_CAP = 10.0
START_ATTEMPTS = 3
REQUEST_TIMEOUT = 30.0
WRK_TIMEOUT = 30  # seconds before wrk counts a request as timed out
SEED_TIME_CAP = 600.0
POLL_INTERVAL = 0.010
IDLE_POLLS = 300
IDLE_POLL_TIME_CAP = 4.0
BUSY_MAX_POLLS = 20_000
HASH_SAMPLES = 5
FALLBACK_MAX_REQUESTS = 1_000_000
REFRESH_TOKENS = 2 * CONNECTIONS  # more than connections: a lost token never starves one
REDIS_DELETE_MAX_KEYS = 1_000_000

Mode = Literal["get", "form", "register", "refresh"]


@dataclass(frozen=True)
class Plan:
    """How long and how often each measure runs."""

    me_rounds: int
    me_seconds: int
    warmup_seconds: int
    login_seconds: int
    register_seconds: int
    refresh_seconds: int
    growth_sizes: tuple[int, ...]
    growth_rounds: int
    growth_me_seconds: int
    growth_login_seconds: int


FULL = Plan(
    me_rounds=3,
    me_seconds=4,
    warmup_seconds=1,
    login_seconds=12,
    register_seconds=8,
    refresh_seconds=5,
    growth_sizes=(1_000, 100_000, 1_000_000),
    growth_rounds=2,
    growth_me_seconds=4,
    growth_login_seconds=8,
)
QUICK = Plan(
    me_rounds=1,
    me_seconds=3,
    warmup_seconds=1,
    login_seconds=8,
    register_seconds=5,
    refresh_seconds=3,
    growth_sizes=(1_000, 100_000),
    growth_rounds=1,
    growth_me_seconds=3,
    growth_login_seconds=6,
)


class Budget:
    """The run's time cap: each measure asks before it starts."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.skipped: list[str] = []

    def allows(self, what: str, needs: float) -> bool:
        if time.monotonic() + needs <= self.deadline:
            return True
        self.skipped.append(what)
        print(f"  skipped {what}: the run's {RUN_TIME_CAP:.0f} s cap would be passed")
        return False


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env() -> dict[str, str]:
    """The harness's environment without any `USERKIT_*` or `BENCH_*` variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("USERKIT_", "BENCH_"))} | {
        "PYTHONUNBUFFERED": "1"
    }


@dataclass
class Server:
    """One app under uvicorn: its name, factory in `apps.py`, and environment."""

    name: str
    factory: str
    env: dict[str, str]
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    port: int = 0
    attempts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name.replace(' ', '-')}-{self.attempts}.log"

    def launch(self) -> None:
        self.attempts += 1
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            f"apps:{self.factory}",
            "--factory",
            "--app-dir",
            str(BENCH_DIR),
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C reaches the harness, whose finally stops it
            )

    def wait_ready(self) -> bool:
        deadline = time.monotonic() + STARTUP_TIME_CAP
        with httpx.Client(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    return False
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/ping").status_code == 200:
                        return True
                time.sleep(0.1)
        return False

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=SHUTDOWN_TIME_CAP)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SHUTDOWN_TIME_CAP)

    def _status_kb(self, key: str) -> int | None:
        if self.process is None:
            return None
        try:
            text = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        match = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
        return int(match.group(1)) if match else None

    def rss_mb(self) -> float | None:
        kb = self._status_kb("VmRSS")
        return kb / 1024 if kb is not None else None

    def peak_rss_mb(self) -> float | None:
        kb = self._status_kb("VmHWM")
        return kb / 1024 if kb is not None else None

    def reset_peak_rss(self) -> bool:
        """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
        if self.process is None:
            return False
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True


def start_servers(servers: Sequence[Server]) -> None:
    """Start every server at once, and wait until each answers `/ping`."""
    for server in servers:
        server.launch()
    for server in servers:
        while not server.wait_ready():
            server.stop()
            if server.attempts >= START_ATTEMPTS:
                raise RuntimeError(f"{server.name} never started:\n{server.log_tail()}")
            print(f"  {server.name} did not start (attempt {server.attempts}), retrying")
            server.launch()


# --------------------------------------------------------------------------- load


@dataclass
class Load:
    """The outcome of one load run: successful answers, errors, latency."""

    ok: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    note: str = ""

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Spec:
    """What one load run sends."""

    mode: Mode
    path: str
    token: str = ""
    form: str = ""
    tokens_file: Path | None = None
    run_id: str = ""


class LoadRun:
    """A load run in the background: `wrk`, or the httpx fallback in a thread."""

    def __init__(self, base_url: str, spec: Spec, seconds: int, use_wrk: bool) -> None:
        self.base_url = base_url
        self.spec = spec
        self.seconds = seconds
        self.use_wrk = use_wrk
        self.process: subprocess.Popen[str] | None = None
        self.thread: threading.Thread | None = None
        self.result: Load | None = None

    def start(self) -> "LoadRun":
        if self.use_wrk:
            env = clean_env() | {
                "BENCH_MODE": self.spec.mode,
                "BENCH_TOKEN": self.spec.token,
                "BENCH_BODY": self.spec.form,
                "BENCH_PASSWORD": PASSWORD,
                "BENCH_RUN": self.spec.run_id or secrets.token_hex(4),
                "BENCH_THREADS": str(WRK_THREADS),
            }
            if self.spec.tokens_file is not None:
                env["BENCH_TOKENS"] = str(self.spec.tokens_file)
            command = [
                "wrk",
                "-t",
                str(WRK_THREADS),
                "-c",
                str(CONNECTIONS),
                "-d",
                f"{self.seconds}s",
                "--timeout",
                f"{WRK_TIMEOUT}s",
                "--latency",
                "-s",
                str(LUA_SCRIPT),
                self.base_url + self.spec.path,
            ]
            self.process = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        else:
            self.thread = threading.Thread(target=self._fallback, daemon=True)
            self.thread.start()
        return self

    def running(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.thread is not None and self.thread.is_alive()

    def finish(self) -> Load:
        cap = self.seconds + WRK_TIMEOUT + 15
        if self.process is not None:
            try:
                out, err = self.process.communicate(timeout=cap)
            except subprocess.TimeoutExpired:
                self.process.kill()
                out, err = self.process.communicate(timeout=SHUTDOWN_TIME_CAP)
            return parse_wrk(out, err)
        if self.thread is not None:
            self.thread.join(timeout=cap)
        return self.result or Load(0, 0, 0.0, 0.0, 0.0, "load generator did not finish")

    def _fallback(self) -> None:
        self.result = asyncio.run(httpx_load(self.base_url, self.spec, self.seconds))


def measure(base_url: str, spec: Spec, seconds: int, use_wrk: bool) -> Load:
    return LoadRun(base_url, spec, seconds, use_wrk).start().finish()


def parse_wrk(out: str, err: str) -> Load:
    for line in out.splitlines():
        if line.startswith("WRK_JSON "):
            data = json.loads(line.removeprefix("WRK_JSON "))
            bad_status = int(data["status"])
            errors = bad_status + sum(int(data[k]) for k in ("connect", "read", "write", "timeout"))
            return Load(
                ok=int(data["requests"]) - bad_status,
                errors=errors,
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
            )
    return Load(0, 0, 0.0, 0.0, 0.0, f"no wrk summary: {(err or out).strip()[:200]}")


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


async def httpx_load(base_url: str, spec: Spec, seconds: int) -> Load:
    """The fallback load generator: `CONNECTIONS` workers, each one request at a time."""
    latencies: list[float] = []
    errors = 0
    sent = 0
    counter = 0
    tokens: list[str] = []
    if spec.tokens_file is not None:
        tokens = [t for t in spec.tokens_file.read_text().splitlines() if t]
    run_id = spec.run_id or secrets.token_hex(4)
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    deadline = time.monotonic() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors, sent, counter
        refresh = tokens.pop() if tokens else "pool-empty"
        while time.monotonic() < deadline and sent < FALLBACK_MAX_REQUESTS:
            sent += 1
            started = time.perf_counter()
            try:
                if spec.mode == "get":
                    headers = {"Authorization": f"Bearer {spec.token}"} if spec.token else {}
                    response = await client.get(spec.path, headers=headers)
                elif spec.mode == "form":
                    response = await client.post(
                        spec.path,
                        content=spec.form,
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                    )
                elif spec.mode == "register":
                    counter += 1
                    email = f"reg-{run_id}-{counter}-{secrets.randbelow(10**9)}@example.com"
                    response = await client.post(
                        spec.path, json={"email": email, "password": PASSWORD}
                    )
                else:
                    response = await client.post(spec.path, json={"refresh_token": refresh})
                    if response.status_code == 200:
                        refresh = response.json().get("refresh_token", "pool-empty")
            except httpx.HTTPError:
                errors += 1
                continue
            if response.is_success:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

    started = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT
    ) as client:
        await asyncio.gather(*(worker(client) for _ in range(CONNECTIONS)))
    elapsed = time.perf_counter() - started
    return Load(
        ok=len(latencies),
        errors=errors,
        seconds=elapsed,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        note="httpx fallback",
    )


def ensure_wrk() -> bool:
    """Whether `wrk` is available; installs the Debian package when root and possible."""
    if shutil.which("wrk"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: installing it with apt-get")
        try:
            subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=300)
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "wrk"],
                check=True,
                timeout=300,
                env=os.environ | {"DEBIAN_FRONTEND": "noninteractive"},
            )
        except (subprocess.SubprocessError, OSError) as exc:
            print(f"  could not install wrk ({exc})")
    if shutil.which("wrk"):
        return True
    print("wrk unavailable: the httpx load generator is used instead (client-bound figures)")
    return False


# --------------------------------------------------------------------------- polling


@dataclass
class Polls:
    """Sequential `/ping` latencies (ms) and the RSS seen meanwhile (MB)."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    max_rss_mb: float = 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 99)


def poll_ping(
    server: Server, keep_going: Callable[[], bool], max_polls: int, time_cap: float
) -> Polls:
    """Poll `/ping` one request at a time while *keep_going*, bounded by count and time."""
    polls = Polls()
    deadline = time.monotonic() + time_cap
    with httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT) as client:
        while keep_going() and len(polls.latencies_ms) < max_polls:
            if time.monotonic() >= deadline:
                break
            started = time.perf_counter()
            try:
                if client.get("/ping").status_code != 200:
                    polls.errors += 1
            except httpx.HTTPError:
                polls.errors += 1
            polls.latencies_ms.append((time.perf_counter() - started) * 1000)
            polls.max_rss_mb = max(polls.max_rss_mb, server.rss_mb() or 0.0)
            time.sleep(POLL_INTERVAL)
    return polls


# --------------------------------------------------------------------------- accounts


def register_and_login(server: Server, email: str) -> dict[str, Any]:
    """Register *email* on *server* and log in: the token response."""
    with httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT) as client:
        response = client.post("/auth/register", json={"email": email, "password": PASSWORD})
        if response.status_code != 201:
            raise RuntimeError(f"{server.name} register: {response.status_code} {response.text}")
        tokens = login(client, email)
        me = client.get("/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        if me.status_code != 200:
            raise RuntimeError(f"{server.name} /users/me: {me.status_code} {me.text[:200]}")
        return tokens


def login(client: httpx.Client, email: str) -> dict[str, Any]:
    response = client.post("/auth/jwt/login", data={"username": email, "password": PASSWORD})
    if response.status_code != 200:
        raise RuntimeError(f"login: {response.status_code} {response.text[:200]}")
    data: dict[str, Any] = response.json()
    return data


def login_form(email: str) -> str:
    return urllib.parse.urlencode({"username": email, "password": PASSWORD})


# --------------------------------------------------------------------------- databases


async def _pg_admin(statements: Sequence[str]) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement, timeout=60)
    finally:
        await conn.close()


def pg_admin(statements: Sequence[str]) -> None:
    asyncio.run(_pg_admin(statements))


async def _pg_version() -> str:
    conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    try:
        version: str = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return version


# Filler rows: any unique values. Columns the model requires (NOT NULL, no server default)
# must all be here, or seeding stops with a message naming the missing ones.
FILLER_VALUES = {
    "id": "gen_random_uuid()",
    "email": "'filler-' || g || '@fill.example.org'",
    "email_key": "'filler-' || g || '@fill.example.org'",
    "email_skeleton": "md5('skeleton-' || g) || md5(g::text)",
    "hashed_password": "$1",
    "is_active": "true",
    "is_superuser": "false",
    "is_verified": "true",
    "token_version": "0",
    "created_at": "now()",
}


def filler_insert() -> str:
    """`INSERT ... SELECT ... FROM generate_series($2, $3) AS g` for the kit's user table."""
    table = KitUser.__table__
    required = [
        c.name
        for c in table.columns
        if not c.nullable and c.server_default is None and c.name not in FILLER_VALUES
    ]
    if required:
        raise RuntimeError(f"the user model has new required columns to seed: {required}")
    names = [c.name for c in table.columns if c.name in FILLER_VALUES]
    columns = ", ".join(f'"{n}"' for n in names)
    values = ", ".join(FILLER_VALUES[n] for n in names)
    return (
        f'INSERT INTO "{KitUser.__tablename__}" ({columns}) '
        f"SELECT {values} FROM generate_series($2::bigint, $3::bigint) AS g"
    )


async def _seed(database: str, total: int, filler_hash: str) -> tuple[int, float]:
    """Grow the user table of *database* to *total* rows; rows added and seconds taken."""
    conn = await asyncpg.connect(PG_DSN.format(database=database), timeout=10)
    try:
        table = KitUser.__tablename__
        count: int = await conn.fetchval(f'SELECT count(*) FROM "{table}"')
        fillers: int = await conn.fetchval(
            f"SELECT count(*) FROM \"{table}\" WHERE email LIKE 'filler-%'"
        )
        missing = total - count
        started = time.perf_counter()
        if missing > 0:
            await conn.execute(
                filler_insert(), filler_hash, fillers + 1, fillers + missing, timeout=SEED_TIME_CAP
            )
            await conn.execute(f'VACUUM (ANALYZE) "{table}"', timeout=SEED_TIME_CAP)
        return max(missing, 0), time.perf_counter() - started
    finally:
        await conn.close()


async def _check_user_row(database: str, email: str) -> None:
    """The benchmark user's row carries the kit's canonical key and skeleton."""
    conn = await asyncpg.connect(PG_DSN.format(database=database), timeout=10)
    try:
        row = await conn.fetchrow(
            f'SELECT email_skeleton FROM "{KitUser.__tablename__}" WHERE email_key = $1',
            canonical_email(email),
        )
    finally:
        await conn.close()
    if row is None or row["email_skeleton"] != email_skeleton(email):
        raise RuntimeError(f"the benchmark user {email} is not stored as the kit keys it")


def redis_cleanup(prefix: str) -> int:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=10)
    deleted = 0
    try:
        batch: list[bytes] = []
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                deleted += client.delete(*batch)
                batch = []
            if deleted >= REDIS_DELETE_MAX_KEYS:
                break
        if batch:
            deleted += client.delete(*batch)
    finally:
        client.close()
    return deleted


def redis_version() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        info: dict[str, Any] = client.info("server")
        return str(info.get("redis_version", "?"))
    finally:
        client.close()


# --------------------------------------------------------------------------- hashing


def median_seconds(action: Callable[[], object], samples: int = HASH_SAMPLES) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def hash_timings() -> dict[str, float]:
    """Seconds of one bcrypt hash and check at the benchmark cost, and of one login check
    by fastapi-users' default password helper (Argon2).
    """
    secret = PASSWORD.encode()
    hashed = bcrypt.hashpw(secret, bcrypt.gensalt(BCRYPT_ROUNDS))
    helper = PasswordHelper()
    fu_hash = helper.hash(PASSWORD)
    return {
        "bcrypt_hash": median_seconds(lambda: bcrypt.hashpw(secret, bcrypt.gensalt(BCRYPT_ROUNDS))),
        "bcrypt_check": median_seconds(lambda: bcrypt.checkpw(secret, hashed)),
        "fastapi_users_verify": median_seconds(lambda: helper.verify_and_update(PASSWORD, fu_hash)),
    }


# --------------------------------------------------------------------------- results


@dataclass
class Row:
    """One line of the table."""

    measure: str
    app: str
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    rss_mb: float | None = None
    ratio: str = ""
    target: str = ""
    met: bool | None = None
    errors: int = 0
    note: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row


def check(ok: bool, text: str) -> tuple[bool, str]:
    return ok, f"{text}: {'met' if ok else 'NOT met'}"


def combine(loads: Sequence[Load]) -> tuple[float, float, float, int]:
    """Median req/s, p50 and p99 over rounds, and the errors of all rounds."""
    if not loads:
        return 0.0, 0.0, 0.0, 0
    return (
        statistics.median(load.rps for load in loads),
        statistics.median(load.p50_ms for load in loads),
        statistics.median(load.p99_ms for load in loads),
        sum(load.errors for load in loads),
    )


# --------------------------------------------------------------------------- measures


@dataclass
class Target:
    """One endpoint of the `/users/me` comparison."""

    key: str
    server: Server
    path: str
    token: str


def measure_me(
    targets: Sequence[Target], plan: Plan, use_wrk: bool, budget: Budget
) -> dict[str, list[Load]]:
    """`GET /users/me` (and `/bare`) on every app, in rounds whose order rotates."""
    loads: dict[str, list[Load]] = {t.key: [] for t in targets}
    for target in targets:
        spec = Spec("get", target.path, token=target.token)
        measure(target.server.base_url, spec, plan.warmup_seconds, use_wrk)
    for round_no in range(plan.me_rounds):
        if not budget.allows(f"/users/me round {round_no + 1}", len(targets) * plan.me_seconds):
            break
        shift = round_no % len(targets)
        order = list(targets[shift:]) + list(targets[:shift])
        if round_no % 2:
            order.reverse()
        for target in order:
            spec = Spec("get", target.path, token=target.token)
            load = measure(target.server.base_url, spec, plan.me_seconds, use_wrk)
            loads[target.key].append(load)
            print(
                f"  round {round_no + 1} {target.key:<28} {load.rps:8.0f} req/s"
                f"  p99 {load.p99_ms:6.1f} ms  errors {load.errors}"
            )
    return loads


@dataclass
class Flood:
    """A login flood and the `/ping` polls and RSS around it."""

    load: Load
    idle: Polls
    busy: Polls
    idle_rss_mb: float
    peak_rss_mb: float


def measure_login_flood(server: Server, email: str, seconds: int, use_wrk: bool) -> Flood:
    idle = poll_ping(server, lambda: True, IDLE_POLLS, IDLE_POLL_TIME_CAP)
    idle_rss = server.rss_mb() or 0.0
    reset = server.reset_peak_rss()
    run = LoadRun(
        server.base_url, Spec("form", "/auth/jwt/login", form=login_form(email)), seconds, use_wrk
    )
    run.start()
    busy = poll_ping(server, run.running, BUSY_MAX_POLLS, seconds + WRK_TIMEOUT + 15)
    load = run.finish()
    peak = max(busy.max_rss_mb, (server.peak_rss_mb() or 0.0) if reset else 0.0)
    return Flood(load=load, idle=idle, busy=busy, idle_rss_mb=idle_rss, peak_rss_mb=peak)


def issue_refresh_tokens(server: Server, email: str, count: int, path: Path) -> None:
    with httpx.Client(base_url=server.base_url, timeout=REQUEST_TIMEOUT) as client:
        response = client.post("/auth/register", json={"email": email, "password": PASSWORD})
        if response.status_code != 201:
            raise RuntimeError(f"refresh setup register: {response.status_code} {response.text}")
        tokens = [str(login(client, email)["refresh_token"]) for _ in range(count)]
    path.write_text("\n".join(tokens) + "\n")


# --------------------------------------------------------------------------- formatting


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def fmt_rps(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def fmt_mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} MB"


COLUMNS = ("measure", "app", "req/s", "p50", "p99", "RSS", "ratio", "target")


def row_cells(row: Row) -> list[str]:
    return [
        row.measure,
        row.app,
        fmt_rps(row.rps),
        fmt_ms(row.p50_ms),
        fmt_ms(row.p99_ms),
        fmt_mb(row.rss_mb),
        row.ratio or "-",
        row.target or "-",
    ]


def text_table(rows: Sequence[Row]) -> str:
    cells = [list(COLUMNS), *(row_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS) - 1)]
    lines = []
    for line in cells:
        parts = [cell.ljust(widths[i]) for i, cell in enumerate(line[:-1])]
        lines.append("  ".join([*parts, line[-1]]))
        if line is cells[0]:
            lines.append("-" * (sum(widths) + 2 * len(widths) + 6))
    return "\n".join(lines)


def markdown_table(rows: Sequence[Row]) -> str:
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join(["---", "---", "--:", "--:", "--:", "--:", "---", "---"]) + "|",
    ]
    for row in rows:
        cells = [c.replace("|", "\\|") for c in row_cells(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    names = [
        "fastapi-userkit",
        "fastapi-users",
        "fastapi-users-db-sqlalchemy",
        "fastapi",
        "starlette",
        "uvicorn",
        "sqlalchemy",
        "aiosqlite",
        "asyncpg",
        "redis",
        "bcrypt",
        "pwdlib",
        "argon2-cffi",
        "httpx",
    ]
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def wrk_version() -> str:
    if not shutil.which("wrk"):
        return "not used (httpx fallback)"
    try:
        done = subprocess.run(
            ["wrk", "--version"], capture_output=True, text=True, timeout=10, check=False
        )
    except (subprocess.SubprocessError, OSError):
        return "unknown"
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split(" [")[0].strip() if first else "unknown"


def machine_info(use_wrk: bool) -> dict[str, Any]:
    info: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "load_generator": wrk_version() if use_wrk else "httpx fallback",
        "packages": versions(),
    }
    with contextlib.suppress(Exception):
        info["postgresql"] = asyncio.run(_pg_version())
    with contextlib.suppress(Exception):
        info["redis"] = redis_version()
    return info


# --------------------------------------------------------------------------- the run


def kit_env(secret: str, database_url: str, rounds: int = BCRYPT_ROUNDS) -> dict[str, str]:
    return clean_env() | {
        "USERKIT_SECRET_KEY": secret,
        "USERKIT_DATABASE_URL": database_url,
        "USERKIT_BCRYPT_ROUNDS": str(rounds),
        "USERKIT_RATE_LIMIT_ENABLED": "false",
    }


def fu_env(database_url: str) -> dict[str, str]:
    return clean_env() | {
        "BENCH_FU_DATABASE_URL": database_url,
        "BENCH_FU_SECRET": secrets.token_hex(32),
    }


def size_label(size: int) -> str:
    if size >= 1_000_000:
        return f"{size // 1_000_000}M"
    return f"{size // 1000}k" if size >= 1000 else str(size)


class Bench:
    """One run: the servers, the benchmark accounts, and each measure in turn."""

    def __init__(self, plan: Plan, use_wrk: bool, workdir: Path, results: Results) -> None:
        self.plan = plan
        self.use_wrk = use_wrk
        self.workdir = workdir
        self.results = results
        self.budget = Budget(RUN_TIME_CAP)
        self.run_id = secrets.token_hex(4)
        self.databases = {
            "kit_pg": f"bench_kit_{self.run_id}",
            "kit_pg_redis": f"bench_kit_redis_{self.run_id}",
            "fu_pg": f"bench_fu_{self.run_id}",
        }
        self.created: list[str] = []
        self.redis_prefix = f"userkit-bench-{self.run_id}:"
        self.sqlite = f"sqlite+aiosqlite:///{workdir}"
        self.servers: dict[str, Server] = {}
        self.emails: dict[str, str] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.me_rps: dict[str, float] = {}
        settings = UserKitSettings(
            secret_key=SecretStr(secrets.token_hex(32)), bcrypt_rounds=BCRYPT_ROUNDS
        )
        self.hash_concurrency = settings.hash_concurrency
        self.kit_capacity = 0.0
        self.fu_capacity = 0.0

    def label(self, key: str) -> str:
        return self.servers[key].name

    # ------------------------------------------------------------------ setup

    def setup(self) -> None:
        for database in self.databases.values():
            pg_admin([f'CREATE DATABASE "{database}"'])
            self.created.append(database)
        pg = {key: PG_URL.format(database=name) for key, name in self.databases.items()}
        secret = secrets.token_hex
        self.servers = {
            "bare": Server("bare", "bare_app", clean_env(), self.workdir),
            "kit_sqlite": Server(
                "kit SQLite", "kit_app", kit_env(secret(32), f"{self.sqlite}/kit.db"), self.workdir
            ),
            "kit_pg": Server(
                "kit PG",
                "kit_app",
                kit_env(secret(32), pg["kit_pg"]) | {"USERKIT_CREATE_TABLES": "true"},
                self.workdir,
            ),
            "kit_pg_redis": Server(
                "kit PG+Redis",
                "kit_app",
                kit_env(secret(32), pg["kit_pg_redis"])
                | {
                    "USERKIT_CREATE_TABLES": "true",
                    "USERKIT_REDIS_URL": REDIS_URL,
                    "USERKIT_REDIS_PREFIX": self.redis_prefix,
                },
                self.workdir,
            ),
            "fu_sqlite": Server(
                "fastapi-users SQLite",
                "fastapi_users_app",
                fu_env(f"{self.sqlite}/fu.db"),
                self.workdir,
            ),
            "fu_pg": Server(
                "fastapi-users PG", "fastapi_users_app", fu_env(pg["fu_pg"]), self.workdir
            ),
        }
        print(f"starting {len(self.servers)} uvicorn servers")
        start_servers(list(self.servers.values()))

        print("registering one benchmark user per app")
        for key, server in self.servers.items():
            if key == "bare":
                continue
            self.emails[key] = f"bench-{key.replace('_', '-')}-{self.run_id}@example.com"
            self.tokens[key] = register_and_login(server, self.emails[key])
        asyncio.run(_check_user_row(self.databases["kit_pg"], self.emails["kit_pg"]))

        print("timing one hash")
        hashes = hash_timings()
        self.results.raw["hash_seconds"] = hashes
        self.kit_capacity = self.hash_concurrency / hashes["bcrypt_hash"]
        # fastapi-users hashes on the event loop: one at a time
        self.fu_capacity = 1 / hashes["fastapi_users_verify"]
        self.results.info |= {
            "hash_concurrency": self.hash_concurrency,
            "cpu_count": os.cpu_count(),
            "bcrypt_hash_ms": hashes["bcrypt_hash"] * 1000,
            "bcrypt_check_ms": hashes["bcrypt_check"] * 1000,
            "fastapi_users_verify_ms": hashes["fastapi_users_verify"] * 1000,
            "kit_capacity_per_s": self.kit_capacity,
            "fastapi_users_capacity_per_s": self.fu_capacity,
        }
        print(
            f"  bcrypt-{BCRYPT_ROUNDS}: hash {hashes['bcrypt_hash'] * 1000:.0f} ms,"
            f" check {hashes['bcrypt_check'] * 1000:.0f} ms; hash_concurrency"
            f" {self.hash_concurrency} on {os.cpu_count()} CPUs: capacity"
            f" {self.kit_capacity:.2f} logins/s; fastapi-users' default helper (Argon2)"
            f" verify {hashes['fastapi_users_verify'] * 1000:.0f} ms:"
            f" {self.fu_capacity:.2f} logins/s"
        )

    def cleanup(self) -> None:
        for server in self.servers.values():
            server.stop()
        try:
            self.results.info["redis_keys_deleted"] = redis_cleanup(self.redis_prefix)
        except redis.RedisError as exc:
            print(f"could not delete the Redis keys {self.redis_prefix}*: {exc}")
        for database in self.created:
            try:
                pg_admin([f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'])
            except (OSError, asyncpg.PostgresError) as exc:
                print(f"could not drop database {database}: {exc}")

    # ------------------------------------------------------------------ (a)

    def users_me(self) -> None:
        plan = self.plan
        print(f"(a) GET /users/me, {plan.me_rounds} round(s) of {plan.me_seconds} s per app")
        targets = [Target("bare", self.servers["bare"], "/bare", "")] + [
            Target(key, self.servers[key], "/users/me", str(self.tokens[key]["access_token"]))
            for key in ("kit_sqlite", "fu_sqlite", "kit_pg", "fu_pg", "kit_pg_redis")
        ]
        loads = measure_me(targets, plan, self.use_wrk, self.budget)
        self.results.raw["users_me"] = {k: [asdict(x) for x in v] for k, v in loads.items()}
        rows: dict[str, Row] = {}
        for target in targets:
            rps, p50, p99, errors = combine(loads[target.key])
            self.me_rps[target.key] = rps
            rows[target.key] = self.results.add(
                Row(
                    "GET /bare" if target.key == "bare" else "GET /users/me",
                    target.server.name,
                    rps,
                    p50,
                    p99,
                    target.server.peak_rss_mb(),
                    errors=errors,
                )
            )

        def ratio(a: str, b: str) -> float:
            return self.me_rps[a] / self.me_rps[b] if self.me_rps.get(b) else 0.0

        rows["bare"].ratio = "1.00x bare"
        kit_fu, kit_bare = ratio("kit_sqlite", "fu_sqlite"), ratio("kit_sqlite", "bare")
        ok_fu, text_fu = check(kit_fu >= 4, "≥ 4x fastapi-users")
        ok_bare, text_bare = check(kit_bare >= 0.25, "≥ 0.25x bare")
        rows["kit_sqlite"].ratio = f"{kit_fu:.2f}x fastapi-users; {kit_bare:.2f}x bare"
        rows["kit_sqlite"].target = f"{text_fu}; {text_bare}"
        rows["kit_sqlite"].met = ok_fu and ok_bare
        for key in ("fu_sqlite", "fu_pg"):
            rows[key].ratio = f"{ratio(key, 'bare'):.2f}x bare"
        kit_pg_fu = ratio("kit_pg", "fu_pg")
        rows[
            "kit_pg"
        ].ratio = f"{kit_pg_fu:.2f}x fastapi-users; {ratio('kit_pg', 'bare'):.2f}x bare"
        rows["kit_pg"].met, rows["kit_pg"].target = check(kit_pg_fu >= 3, "≥ 3x fastapi-users")
        redis_pg = ratio("kit_pg_redis", "kit_pg")
        rows["kit_pg_redis"].ratio = f"{redis_pg:.2f}x kit PG"
        rows["kit_pg_redis"].met, rows["kit_pg_redis"].target = check(
            redis_pg >= 0.95, "same as PG or better (≥ 0.95x)"
        )

    # ------------------------------------------------------------------ (b)

    def logins(self) -> None:
        cases = (
            ("kit_sqlite", self.kit_capacity, f"bcrypt {BCRYPT_ROUNDS}"),
            ("fu_sqlite", self.fu_capacity, "its default, Argon2"),
        )
        seconds = self.plan.login_seconds
        for key, capacity, hashing in cases:
            name = self.label(key)
            if not self.budget.allows(f"login flood on {name}", seconds + 10):
                continue
            print(f"(b) login flood on {name} ({hashing}), {seconds} s")
            flood = measure_login_flood(self.servers[key], self.emails[key], seconds, self.use_wrk)
            load = flood.load
            print(
                f"  {load.rps:.2f} logins/s ({load.ok} ok, {load.errors} errors);"
                f" /ping p99 idle {flood.idle.p99_ms:.1f} ms, busy {flood.busy.p99_ms:.1f} ms;"
                f" RSS idle {flood.idle_rss_mb:.0f} MB, peak {flood.peak_rss_mb:.0f} MB"
            )
            share = load.rps / capacity if capacity else 0.0
            stall = flood.busy.p99_ms / flood.idle.p99_ms if flood.idle.p99_ms else 0.0
            growth = flood.peak_rss_mb / flood.idle_rss_mb if flood.idle_rss_mb else 0.0
            login_row = self.results.add(
                Row(
                    f"login ({hashing})",
                    name,
                    load.rps,
                    load.p50_ms,
                    load.p99_ms,
                    flood.peak_rss_mb,
                    ratio=f"{share:.2f}x capacity {capacity:.2f}/s",
                    errors=load.errors,
                    note=load.note,
                )
            )
            ping_row = self.results.add(
                Row(
                    "/ping during login",
                    name,
                    p50_ms=flood.busy.p50_ms,
                    p99_ms=flood.busy.p99_ms,
                    ratio=f"{stall:.1f}x idle p99 {fmt_ms(flood.idle.p99_ms)}",
                    errors=flood.busy.errors,
                )
            )
            rss_row = self.results.add(
                Row(
                    "peak RSS during login",
                    name,
                    rss_mb=flood.peak_rss_mb,
                    ratio=f"{growth:.2f}x idle {fmt_mb(flood.idle_rss_mb)}",
                )
            )
            if key == "kit_sqlite":
                login_row.met, login_row.target = check(share >= 0.9, "≥ 90% of capacity")
                ping_row.met, ping_row.target = check(stall <= 5, "≤ 5x idle p99")
                rss_row.met, rss_row.target = check(growth <= 1.3, "≤ 1.3x idle")
            self.results.raw[f"login_{key}"] = {
                "load": asdict(load),
                "capacity_per_s": capacity,
                "idle_ping_p50_ms": flood.idle.p50_ms,
                "idle_ping_p99_ms": flood.idle.p99_ms,
                "idle_polls": len(flood.idle.latencies_ms),
                "busy_ping_p50_ms": flood.busy.p50_ms,
                "busy_ping_p99_ms": flood.busy.p99_ms,
                "busy_ping_max_ms": max(flood.busy.latencies_ms, default=0.0),
                "busy_polls": len(flood.busy.latencies_ms),
                "idle_rss_mb": flood.idle_rss_mb,
                "peak_rss_mb": flood.peak_rss_mb,
            }

    # ------------------------------------------------------------------ (c)

    def register(self) -> None:
        seconds = self.plan.register_seconds
        loads: dict[str, Load] = {}
        for key in ("kit_sqlite", "fu_sqlite"):
            if not self.budget.allows(f"register on {self.label(key)}", seconds + 5):
                continue
            print(f"(c) register on {self.label(key)}, {seconds} s")
            spec = Spec("register", "/auth/register", run_id=f"{self.run_id}-{key}")
            load = measure(self.servers[key].base_url, spec, seconds, self.use_wrk)
            loads[key] = load
            print(f"  {load.rps:.2f} req/s ({load.ok} ok, {load.errors} errors)")
            self.results.raw[f"register_{key}"] = asdict(load)
        for key, load in loads.items():
            row = self.results.add(
                Row(
                    "register",
                    self.label(key),
                    load.rps,
                    load.p50_ms,
                    load.p99_ms,
                    self.servers[key].peak_rss_mb(),
                    target="reported",
                    errors=load.errors,
                    note=load.note,
                )
            )
            peer = loads.get("fu_sqlite")
            if key == "kit_sqlite" and peer is not None and peer.rps:
                row.ratio = f"{load.rps / peer.rps:.2f}x fastapi-users"

    # ------------------------------------------------------------------ (d)

    def refresh(self) -> None:
        seconds = self.plan.refresh_seconds
        if not self.budget.allows("refresh", seconds + 40):
            return
        print(f"(d) refresh on kit SQLite, {seconds} s")
        secret = secrets.token_hex(32)
        url = f"{self.sqlite}/refresh.db"
        setup = Server(
            "refresh setup", "kit_app", kit_env(secret, url, SETUP_BCRYPT_ROUNDS), self.workdir
        )
        self.servers["refresh_setup"] = setup
        start_servers([setup])
        tokens_file = self.workdir / "refresh-tokens.txt"
        try:
            email = f"refresh-{self.run_id}@example.com"
            issue_refresh_tokens(setup, email, REFRESH_TOKENS, tokens_file)
        finally:
            setup.stop()
        server = Server("kit SQLite", "kit_app", kit_env(secret, url), self.workdir)
        self.servers["refresh"] = server
        start_servers([server])
        spec = Spec("refresh", "/auth/jwt/refresh", tokens_file=tokens_file)
        load = measure(server.base_url, spec, seconds, self.use_wrk)
        peak = server.peak_rss_mb()
        server.stop()
        print(f"  {load.rps:.0f} req/s ({load.ok} ok, {load.errors} errors)")
        self.results.raw["refresh"] = asdict(load)
        me = self.me_rps.get("kit_sqlite")
        self.results.add(
            Row(
                "refresh",
                "kit SQLite",
                load.rps,
                load.p50_ms,
                load.p99_ms,
                peak,
                ratio=f"{load.rps / me:.2f}x its /users/me" if me else "",
                target="reported",
                errors=load.errors,
                note=load.note,
            )
        )

    # ------------------------------------------------------------------ (e)

    def growth(self) -> None:
        plan = self.plan
        server = self.servers["kit_pg"]
        password = secrets.token_hex(16).encode()
        filler_hash = bcrypt.hashpw(password, bcrypt.gensalt(BCRYPT_ROUNDS)).decode()
        me_spec = Spec("get", "/users/me", token=str(self.tokens["kit_pg"]["access_token"]))
        login_spec = Spec("form", "/auth/jwt/login", form=login_form(self.emails["kit_pg"]))
        measured: dict[int, tuple[float, float, float, int, Load]] = {}
        for size in plan.growth_sizes:
            label = size_label(size)
            needs = 90 + plan.growth_rounds * plan.growth_me_seconds + plan.growth_login_seconds
            if not self.budget.allows(f"{label} users", needs):
                break
            added, took = asyncio.run(_seed(self.databases["kit_pg"], size, filler_hash))
            print(f"(e) kit PG with {label} users (seeded {added} rows in {took:.1f} s)")
            me_loads = [
                measure(server.base_url, me_spec, plan.growth_me_seconds, self.use_wrk)
                for _ in range(plan.growth_rounds)
            ]
            login = measure(server.base_url, login_spec, plan.growth_login_seconds, self.use_wrk)
            rps, p50, p99, errors = combine(me_loads)
            measured[size] = (rps, p50, p99, errors, login)
            print(f"  /users/me {rps:.0f} req/s, p99 {p99:.1f} ms; login {login.rps:.2f}/s")
            self.results.raw[f"growth_{size}"] = {
                "seeded_rows": added,
                "seed_seconds": took,
                "users_me": [asdict(x) for x in me_loads],
                "login": asdict(login),
            }
        base = measured.get(plan.growth_sizes[0])
        for size, (rps, p50, p99, errors, login) in measured.items():
            label = size_label(size)
            rss = server.peak_rss_mb()
            me_row = self.results.add(
                Row(f"GET /users/me, {label} users", "kit PG", rps, p50, p99, rss, errors=errors)
            )
            login_row = self.results.add(
                Row(
                    f"login, {label} users",
                    "kit PG",
                    login.rps,
                    login.p50_ms,
                    login.p99_ms,
                    rss,
                    errors=login.errors,
                    note=login.note,
                )
            )
            if base is None or size == plan.growth_sizes[0]:
                continue
            # cost per request relative to 1k users: req/s at 1k ÷ req/s here
            me_cost = base[0] / rps if rps else math.inf
            login_cost = base[4].rps / login.rps if login.rps else math.inf
            me_row.ratio = f"cost {me_cost:.2f}x 1k"
            login_row.ratio = f"cost {login_cost:.2f}x 1k"
            if size == 1_000_000:
                me_row.met, me_row.target = check(me_cost <= 1.2, "≤ 1.2x 1k")
                login_row.met, login_row.target = check(login_cost <= 1.2, "≤ 1.2x 1k")
        if 1_000_000 not in measured:
            self.results.info["million"] = "not measured (--quick, --skip-million or time cap)"

    def run(self) -> None:
        try:
            self.setup()
            self.users_me()
            self.logins()
            self.register()
            self.refresh()
            self.growth()
        finally:
            self.results.info["skipped"] = self.budget.skipped
            self.cleanup()


# --------------------------------------------------------------------------- output


def targets_summary(rows: Sequence[Row]) -> list[str]:
    lines = []
    for row in rows:
        if row.met is None:
            continue
        lines.append(
            f"{'met    ' if row.met else 'NOT met'}  {row.measure}, {row.app}: {row.target}"
        )
    return lines


def notes(results: Results) -> list[str]:
    found = []
    for row in results.rows:
        if row.errors:
            found.append(f"{row.measure}, {row.app}: {row.errors} failed requests")
        if row.note:
            found.append(f"{row.measure}, {row.app}: {row.note}")
    for skipped in results.info.get("skipped", []):
        found.append(f"skipped: {skipped}")
    if "million" in results.info:
        found.append(f"1M users: {results.info['million']}")
    return found


def method_line(results: Results, plan: Plan) -> str:
    info = results.info
    return (
        f"{CONNECTIONS} connections, {info['load_generator']}; /users/me: {plan.me_rounds}"
        f" interleaved round(s) of {plan.me_seconds} s per app (median); login flood"
        f" {plan.login_seconds} s; register {plan.register_seconds} s; refresh"
        f" {plan.refresh_seconds} s"
    )


def hashing_line(results: Results) -> str:
    info = results.info
    if "bcrypt_hash_ms" not in info:
        return "hashing: not measured"
    return (
        f"bcrypt cost {BCRYPT_ROUNDS}: one hash {info['bcrypt_hash_ms']:.0f} ms, one check"
        f" {info['bcrypt_check_ms']:.0f} ms; the kit's hash_concurrency"
        f" {info['hash_concurrency']} (default on {info['cpu_count']} CPUs): capacity"
        f" {info['kit_capacity_per_s']:.2f} logins/s. fastapi-users' default password helper"
        f" (Argon2) verifies in {info['fastapi_users_verify_ms']:.0f} ms on the event loop:"
        f" {info['fastapi_users_capacity_per_s']:.2f} logins/s"
    )


def render_markdown(results: Results, plan: Plan, quick: bool) -> str:
    info = results.info
    packages = ", ".join(f"{name} {version}" for name, version in info["packages"].items())
    lines = [
        MARK_BEGIN,
        "",
        f"Run of {info['date']}{' (`--quick`)' if quick else ''}.",
        "",
        f"- **Machine**: {info['machine']}, {info['cpu']}, {info['cores']} cores;"
        f" Python {info['python']}; PostgreSQL {info.get('postgresql', '?')},"
        f" Redis {info.get('redis', '?')}.",
        f"- **Load**: {method_line(results, plan)}.",
        f"- **Hashing**: {hashing_line(results)}.",
        f"- **Packages**: {packages}.",
        "",
        markdown_table(results.rows),
        "",
    ]
    summary = targets_summary(results.rows)
    if summary:
        lines += ["Targets:", ""] + [
            f"- {line.replace('NOT met', '**NOT met**')}" for line in summary
        ]
        lines.append("")
    extra = notes(results)
    if extra:
        lines += ["Notes:", ""] + [f"- {line}" for line in extra] + [""]
    lines.append(MARK_END)
    return "\n".join(lines)


DEFAULT_PAGE = f"""# Performance

How fast the kit answers, compared with a bare FastAPI endpoint and with fastapi-users.

{MARK_BEGIN}
{MARK_END}
"""


def write_docs(block: str) -> None:
    text = DOCS_PAGE.read_text() if DOCS_PAGE.exists() else DEFAULT_PAGE
    start, end = text.find(MARK_BEGIN), text.find(MARK_END)
    if start < 0 or end < start:
        text = text.rstrip("\n") + "\n\n" + MARK_BEGIN + "\n" + MARK_END + "\n"
        start, end = text.find(MARK_BEGIN), text.find(MARK_END)
    DOCS_PAGE.parent.mkdir(parents=True, exist_ok=True)
    DOCS_PAGE.write_text(text[:start] + block + text[end + len(MARK_END) :])


def exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop the servers


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="one round, 1k and 100k users")
    parser.add_argument("--skip-million", action="store_true", help="no 1M-user step")
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help=f"results file (default {DEFAULT_JSON})"
    )
    parser.add_argument(
        "--write-docs", action="store_true", help=f"update {DOCS_PAGE.relative_to(ROOT)}"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    plan = QUICK if args.quick else FULL
    if args.skip_million:
        plan = replace(plan, growth_sizes=tuple(s for s in plan.growth_sizes if s < 1_000_000))
    started = time.monotonic()
    use_wrk = ensure_wrk()
    results = Results()
    results.info = machine_info(use_wrk)
    print(
        f"fastapi-userkit benchmark: {results.info['machine']}, {results.info['cpu']},"
        f" {results.info['cores']} cores, Python {results.info['python']},"
        f" load by {results.info['load_generator']}"
    )
    failed: str | None = None
    with tempfile.TemporaryDirectory(prefix="userkit-bench-") as tmp:
        bench = Bench(plan, use_wrk, Path(tmp), results)
        try:
            bench.run()
        except (RuntimeError, OSError, asyncpg.PostgresError, httpx.HTTPError) as exc:
            failed = f"{type(exc).__name__}: {exc}"
    print()
    print(text_table(results.rows))
    print()
    print(f"method: {method_line(results, plan)}")
    print(hashing_line(results))
    for line in targets_summary(results.rows):
        print(line)
    for line in notes(results):
        print(f"note: {line}")
    payload = {
        "plan": asdict(plan),
        "info": results.info,
        "rows": [asdict(row) for row in results.rows],
        "raw": results.raw,
        "failed": failed,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"\nresults written to {args.json}")
    if failed:
        print(f"the run failed: {failed}")
        return 1
    if args.write_docs:
        write_docs(render_markdown(results, plan, args.quick))
        print(f"updated {DOCS_PAGE.relative_to(ROOT)}")
    print(f"total run time {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
