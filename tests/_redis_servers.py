"""Throw-away Redis servers for the Sentinel and Cluster tests.

Each server is a `redis-server` process of the test's own, on a free port of
127.0.0.1, with its files in a temporary directory and no persistence
(`--save "" --appendonly no`). Every process is stopped by its process id when
the `with` block ends, whatever happened inside. Every wait is bounded.
"""

import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

SERVICE = "mymaster"
START_TIMEOUT = 10.0  # seconds for a server to answer PING
SETUP_TIMEOUT = 15.0  # seconds for a replica to sync, a Sentinel to see it, a Cluster to form


def require_redis_server() -> str:
    """The path of `redis-server`; skip without it on a laptop, fail in CI."""
    path = shutil.which("redis-server")
    if path is None or shutil.which("redis-cli") is None:
        message = "redis-server or redis-cli is not installed (apt-get install redis-server)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}; CI requires it")
        pytest.skip(message)
    return path


def sentinel_command(config: Path) -> list[str]:
    """`redis-sentinel <config>`, or `redis-server <config> --sentinel` (the same program)."""
    if binary := shutil.which("redis-sentinel"):
        return [binary, str(config)]
    return [require_redis_server(), str(config), "--sentinel"]


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, bus: bool = False) -> int:
    """A port of 127.0.0.1 nobody listens on; with *bus*, port + 10000 is free too
    (a Cluster node's bus port), so the port is drawn from 20000-45000.
    """
    for _ in range(200):
        port = random.randint(20000, 45000)  # noqa: S311 - not for security
        if _bindable(port) and (not bus or _bindable(port + 10000)):
            return port
    raise RuntimeError("no free port pair on 127.0.0.1")


def wait_for(what: str, check: Callable[[], bool], timeout: float = SETUP_TIMEOUT) -> None:
    """Poll *check* every 50 ms until it holds; fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass  # not up yet
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def client(port: int, db: int = 0) -> "redis.Redis":
    """A short-lived synchronous client of one local server, to set up and inspect."""
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        db=db,
        decode_responses=True,
        socket_timeout=2,
        socket_connect_timeout=2,
    )


@dataclass
class Server:
    """One `redis-server` (or Sentinel) process of the test's own."""

    name: str
    port: int
    directory: Path
    process: subprocess.Popen[bytes] = field(init=False)

    def start(self, command: list[str]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "log").open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                command, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self) -> None:
        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.log()}")
            with client(self.port) as c:
                return bool(c.ping())

        wait_for(f"{self.name} on port {self.port}", answers, START_TIMEOUT)

    def log(self) -> str:
        path = self.directory / "log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        """Stop the process by its id: SIGTERM, then SIGKILL after 5 seconds."""
        if not hasattr(self, "process") or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def crash(self) -> None:
        """Kill the process at once (SIGKILL), as a crash would."""
        self.process.kill()
        self.process.wait(timeout=5)


def launch(
    stack: ExitStack,
    directory: Path,
    name: str,
    command: Callable[[Server], list[str]],
    *,
    bus: bool = False,
) -> Server:
    """Start `command(server)` on a free port, stopped by *stack*; return the server
    once it answers. Another port is tried if one was taken meanwhile.
    """
    for attempt in range(3):
        server = Server(name, free_port(bus=bus), directory / f"{name}-{attempt}")
        stack.callback(server.stop)
        server.start(command(server))
        try:
            server.wait_ready()
        except AssertionError:
            if server.process.poll() is None or "in use" not in server.log() or attempt == 2:
                raise
            continue
        return server
    raise AssertionError("unreachable")


def redis_server(
    stack: ExitStack, directory: Path, name: str, *extra: str, bus: bool = False
) -> Server:
    """Start a `redis-server` that *stack* stops; return it once it answers."""
    binary = require_redis_server()

    def command(server: Server) -> list[str]:
        return [
            binary,
            "--port", str(server.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(server.directory),
            *extra,
        ]  # fmt: skip

    return launch(stack, directory, name, command, bus=bus)


@dataclass
class SentinelSetup:
    master: Server
    replica: Server
    sentinel: Server

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel.port}/{SERVICE}/0"

    def failover(self) -> None:
        """Ask the Sentinel to promote the replica (again while it answers NOGOODSLAVE)."""

        def started() -> bool:
            with client(self.sentinel.port) as c:
                return bool(c.execute_command("SENTINEL", "FAILOVER", SERVICE))

        wait_for("the Sentinel to start a failover", started)

    def master_port(self) -> int:
        with client(self.sentinel.port) as c:
            _, port = c.sentinel_get_master_addr_by_name(SERVICE)
        return int(port)


@contextmanager
def sentinel_setup(directory: Path) -> Iterator[SentinelSetup]:
    """A master, its replica and one Sentinel watching them (quorum 1)."""
    with ExitStack() as stack:
        # no wait before a full sync (5 s by default): the replica is the only one
        quick = ("--repl-diskless-sync-delay", "0")
        master = redis_server(stack, directory, "master", *quick)
        replica = redis_server(
            stack, directory, "replica", *quick, "--replicaof", "127.0.0.1", str(master.port)
        )

        def replica_synced() -> bool:
            with client(replica.port) as c:
                return c.info("replication")["master_link_status"] == "up"

        wait_for("the replica to sync", replica_synced)

        def sentinel_config(server: Server) -> list[str]:
            server.directory.mkdir(parents=True)
            config = server.directory / "sentinel.conf"  # a Sentinel rewrites its file
            config.write_text(
                f"port {server.port}\n"
                "bind 127.0.0.1\n"
                f'dir "{server.directory}"\n'
                f"sentinel monitor {SERVICE} 127.0.0.1 {master.port} 1\n"
                f"sentinel down-after-milliseconds {SERVICE} 1000\n"
                f"sentinel failover-timeout {SERVICE} 10000\n"
            )
            return sentinel_command(config)

        sentinel = launch(stack, directory, "sentinel", sentinel_config)

        def replica_ready() -> bool:
            """The Sentinel talks to the replica and has its INFO: a failover may pick it."""
            with client(sentinel.port) as c:
                return any(
                    r["port"] == replica.port
                    and not (r["is_disconnected"] or r["is_sdown"])
                    and r.get("master-link-status") == "ok"
                    and int(r.get("info-refresh", 10**9)) < 10_000
                    for r in c.sentinel_slaves(SERVICE)
                )

        wait_for("the Sentinel to see the replica", replica_ready)
        yield SentinelSetup(master, replica, sentinel)


@dataclass
class ClusterSetup:
    nodes: list[Server]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def slots(self, node: Server) -> list[range]:
        """The hash slots *node* serves."""
        with client(node.port) as c:
            table = c.execute_command("CLUSTER", "SLOTS")
        return [
            range(start, end + 1) for start, end, (_, port, *_), *_ in table if port == node.port
        ]


@contextmanager
def cluster_setup(directory: Path, size: int = 3) -> Iterator[ClusterSetup]:
    """*size* primaries joined into a Cluster (no replicas), every slot covered."""
    with ExitStack() as stack:
        options = ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
        timeout = ("--cluster-node-timeout", "2000")  # a stopped node fails after 2 s
        nodes = [
            redis_server(stack, directory, f"node{i}", *options, *timeout, bus=True)
            for i in range(size)
        ]
        command = [shutil.which("redis-cli") or "redis-cli", "--cluster", "create"]
        command += [f"127.0.0.1:{n.port}" for n in nodes]
        command += ["--cluster-replicas", "0", "--cluster-yes"]
        create = subprocess.run(  # noqa: S603 - fixed arguments
            command, capture_output=True, timeout=SETUP_TIMEOUT, check=False
        )
        assert create.returncode == 0, create.stdout.decode() + create.stderr.decode()

        def formed() -> bool:
            for node in nodes:
                with client(node.port) as c:
                    info = c.cluster("INFO")
                    if info["cluster_state"] != "ok" or int(info["cluster_known_nodes"]) != size:
                        return False
            return True

        wait_for("the Cluster to form", formed)
        yield ClusterSetup(nodes)
