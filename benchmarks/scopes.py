"""Benchmark of the scope check: live grants read per request, against no scope check.

Run from the repository root (``make bench-scopes`` does)::

    .venv/bin/python benchmarks/scopes.py [--rounds N] [--seconds S]

For SQLite and PostgreSQL, one uvicorn process of `apps.kit_scoped_app` (one worker,
loopback only) answers three endpoints measured in rotating rounds:

- ``GET /bare`` of `apps.bare_app` (the floor, no authentication);
- ``GET /signed-in`` (``kit.current_user()``): the token checked and the user read, as
  every authenticated request does. Scopes carried inside the token would cost this,
  plus a set lookup;
- ``GET /scoped`` (``kit.current_user(scopes=["bench:read"])``): the same, plus one
  indexed read of the user's live grants.

It prints requests per second and the ratio scoped / signed-in. Every loop is bounded
in count and time; the servers are stopped by process id whatever happens.
"""

import argparse
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import (
    PG_URL,
    ROOT,
    Server,
    Spec,
    ensure_wrk,
    kit_env,
    measure,
    pg_admin,
    register_and_login,
    start_servers,
)

RUN_CAP_SECONDS = 600


def userkit(env: dict[str, str], *args: str) -> None:
    """Run the `userkit` command against the server's database."""
    command = [sys.executable, "-m", "fastapi_userkit", *args]
    subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=60, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, choices=range(1, 11))
    parser.add_argument("--seconds", type=int, default=5, choices=range(1, 31))
    args = parser.parse_args()
    if 2 * 3 * (args.rounds + 1) * args.seconds > RUN_CAP_SECONDS:
        parser.error("rounds x seconds exceed the run's cap")
    use_wrk = ensure_wrk()
    run_id = secrets.token_hex(4)
    database = f"bench_scopes_{run_id}"
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="userkit-bench-scopes-") as tmp:
        workdir = Path(tmp)
        pg_admin([f'CREATE DATABASE "{database}"'])
        try:
            urls = {
                "SQLite": f"sqlite+aiosqlite:///{workdir}/kit.db",
                "PostgreSQL": PG_URL.format(database=database),
            }
            bare = Server("bare", "bare_app", kit_env("unused", "unused"), workdir)
            kits = {
                name: Server(
                    f"kit {name}",
                    "kit_scoped_app",
                    kit_env(secrets.token_hex(32), url) | {"USERKIT_CREATE_TABLES": "true"},
                    workdir,
                )
                for name, url in urls.items()
            }
            servers = [bare, *kits.values()]
            start_servers(servers)
            print(
                f"load: {'wrk' if use_wrk else 'httpx'}, {args.rounds} round(s) of {args.seconds} s"
            )
            for name, server in kits.items():
                email = f"bench-{run_id}@example.com"
                token = str(register_and_login(server, email)["access_token"])
                userkit(server.env, "create-role", "bench", "bench:read")
                userkit(server.env, "grant-role", email, "bench")
                targets = {
                    "bare": (bare, Spec("get", "/bare")),
                    "signed-in": (server, Spec("get", "/signed-in", token=token)),
                    "scoped": (server, Spec("get", "/scoped", token=token)),
                }
                rps: dict[str, list[float]] = {key: [] for key in targets}
                for target, spec in targets.values():
                    measure(target.base_url, spec, 1, use_wrk)  # warm-up
                for round_no in range(args.rounds):
                    order = list(targets)[round_no % 3 :] + list(targets)[: round_no % 3]
                    for key in order:
                        target, spec = targets[key]
                        load = measure(target.base_url, spec, args.seconds, use_wrk)
                        if load.errors:
                            print(f"  {key}: {load.errors} errors")
                        rps[key].append(load.rps)
                median = {key: statistics.median(values) for key, values in rps.items()}
                print(f"{name}:")
                for key, value in median.items():
                    print(
                        f"  GET /{key:<10} {value:8.0f} req/s  {value / median['bare']:.2f}x bare"
                    )
                print(
                    f"  scoped / signed-in: {median['scoped'] / median['signed-in']:.2f}"
                    " (1.00 = the grants read costs nothing)"
                )
        finally:
            for server in servers:
                server.stop()
            pg_admin([f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'])
    return 0


if __name__ == "__main__":
    sys.exit(main())
