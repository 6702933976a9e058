"""The Redis client both Redis back-ends start from (extra `[redis]`).

Three kinds of URL are understood:

- `redis://`, `rediss://`, `unix://`: one node, parsed by `redis.asyncio.Redis.from_url`.
- `redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service[/db][?options]`:
  the master Sentinel names for *service*, found again after every failover
  (`Sentinel(...).master_for(service)`). The port defaults to 26379.
- `redis+cluster://[[user]:password@]host[:port][,host[:port]...][/0][?options]`:
  a Redis Cluster (`RedisCluster`), reached through any of the nodes. The port
  defaults to 6379.

The credentials are those of the Redis servers. The options are `socket_timeout`
and `socket_connect_timeout` (seconds), and for Sentinel `sentinel_username` and
`sentinel_password` (for Sentinels that require a login of their own).
"""

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from fastapi_userkit.exceptions import ConfigurationError

if TYPE_CHECKING:
    from redis.asyncio import Redis, RedisCluster

TIMEOUT = 5.0  # seconds; a `socket_timeout=` in the URL takes precedence

SENTINEL_SCHEME = "redis+sentinel"
CLUSTER_SCHEME = "redis+cluster"
_DEFAULT_PORTS = {SENTINEL_SCHEME: 26379, CLUSTER_SCHEME: 6379}
_TIMEOUTS = ("socket_timeout", "socket_connect_timeout")
_SENTINEL_LOGIN = ("sentinel_username", "sentinel_password")


@dataclass(frozen=True, slots=True)
class RedisConnection:
    """A client and what its owner needs to know about it."""

    client: "Redis | RedisCluster"
    owned: bool
    """Whether the back-end made the client (from a URL), and so must close it."""
    errors: tuple[type[BaseException], ...]
    """The errors that mean "Redis is unavailable" (any Redis failure or socket error)."""
    cluster: bool
    """Whether the client speaks to a Redis Cluster: every script's keys must share a slot."""
    companions: tuple[Any, ...] = ()
    """Clients made alongside *client* (the Sentinels' own), closed after it."""

    async def aclose(self) -> None:
        """Close the companions (the owner closes `client` itself)."""
        for companion in self.companions:
            await companion.aclose()


def redis_client(
    owner: str, url: str | None, client: "Redis | RedisCluster | None"
) -> RedisConnection:
    """Return the client for *owner* (a class name, for messages): the one given,
    or one made from *url*.

    Raises:
        ImportError: the `redis` package is missing (with the install hint).
        ConfigurationError: not exactly one of *url* and *client*, or a Sentinel or
            Cluster URL that cannot be understood.
    """
    try:
        import redis.asyncio as aioredis
        from redis import exceptions
        from redis.asyncio.cluster import RedisCluster
    except ImportError as exc:
        raise ImportError(
            f'{owner} needs the redis package: pip install "fastapi-userkit[redis]"'
        ) from exc
    if (url is None) == (client is None):
        raise ConfigurationError(f"{owner} needs exactly one of url= and client=")
    # RedisClusterException is not a RedisError, yet it is what a Cluster that
    # cannot be reached at all raises ("Redis Cluster cannot be connected").
    errors: tuple[type[BaseException], ...] = (
        exceptions.RedisError,
        exceptions.RedisClusterException,
        OSError,
    )
    if client is not None:
        return RedisConnection(client, False, errors, isinstance(client, RedisCluster))
    text = str(url)
    scheme = text.partition("://")[0].lower()
    if scheme == SENTINEL_SCHEME:
        return _sentinel(owner, text, errors)
    if scheme == CLUSTER_SCHEME:
        return _cluster(owner, text, errors)
    if "+" in scheme:  # e.g. rediss+cluster: TLS takes options a URL does not carry
        raise ConfigurationError(
            f"{owner}: {scheme}:// is not supported; use {SENTINEL_SCHEME}:// or "
            f"{CLUSTER_SCHEME}://, or pass a client you built with client="
        )
    created = aioredis.Redis.from_url(
        text, decode_responses=True, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT
    )
    return RedisConnection(created, True, errors, False)


@dataclass(frozen=True, slots=True)
class _Parsed:
    owner: str
    scheme: str
    hosts: list[tuple[str, int]]
    username: str | None
    password: str | None
    path: list[str]
    options: dict[str, str]

    def bad(self, reason: str) -> ConfigurationError:
        # Never echo the URL: it may hold a password.
        return ConfigurationError(f"{self.owner}: {self.scheme}:// URL {reason}")

    def timeout(self, name: str) -> float:
        if name not in self.options:
            return TIMEOUT
        try:
            value = float(self.options[name])
        except ValueError:
            value = -1.0
        if not (math.isfinite(value) and value > 0):
            raise self.bad(f"needs a number of seconds above 0 for {name}")
        return value


def _parse(owner: str, url: str, allowed: tuple[str, ...]) -> _Parsed:
    """Split a URL with several hosts (urllib reads only one host:port per URL)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # an unclosed "[": the message holds no part of the URL
        raise ConfigurationError(f"{owner}: bad Redis URL ({exc})") from None
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    username, colon, password = userinfo.partition(":")
    parsed = _Parsed(
        owner=owner,
        scheme=parts.scheme,
        hosts=[],
        username=unquote(username) or None,
        password=unquote(password) if colon and password else None,
        path=[unquote(p) for p in parts.path.split("/")[1:]],
        options={},
    )
    default_port = _DEFAULT_PORTS[parts.scheme]
    parsed.hosts.extend(_host(parsed, entry, default_port) for entry in hostlist.split(","))
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name not in allowed:
            raise parsed.bad(f"has an unknown option {name!r}; known: {', '.join(allowed)}")
        if name in parsed.options:
            raise parsed.bad(f"repeats the option {name!r}")
        parsed.options[name] = value
    if parts.fragment:
        raise parsed.bad("has a #fragment")
    return parsed


def _host(parsed: _Parsed, entry: str, default_port: int) -> tuple[str, int]:
    """`host`, `host:port`, `[v6]` or `[v6]:port`."""
    if entry.startswith("["):
        host, close, rest = entry[1:].partition("]")
        if not close or (rest and not rest.startswith(":")):
            raise parsed.bad(f"has a bad host {entry!r}")
        port_text = rest[1:]
    else:
        host, _, port_text = entry.partition(":")
    if not host:
        raise parsed.bad("needs a host:port, or several separated by commas")
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise parsed.bad(f"has a bad port in {entry!r}")
    return host, int(port_text)


def _sentinel(owner: str, url: str, errors: tuple[type[BaseException], ...]) -> RedisConnection:
    from redis.asyncio.retry import Retry
    from redis.asyncio.sentinel import Sentinel
    from redis.backoff import NoBackoff

    parsed = _parse(owner, url, _TIMEOUTS + _SENTINEL_LOGIN)
    path = parsed.path
    if not 1 <= len(path) <= 2 or not path[0]:
        raise parsed.bad("needs the service name as its path: /<service_name>[/<db>]")
    db = 0
    if len(path) == 2:
        if not path[1].isdigit():
            raise parsed.bad("needs a database number after the service name")
        db = int(path[1])
    timeouts = {name: parsed.timeout(name) for name in _TIMEOUTS}
    # The Sentinels get only the timeouts (and a login of their own, if given):
    # the credentials before the hosts are the Redis servers' ones. Retries are
    # set, not left to the redis version: recent ones retry a refused Sentinel ten
    # times with back-off, seconds per Sentinel before the next one is asked, and
    # as long before a request gets its 503. A Sentinel is asked once (asking the
    # next one is the retry); the master's client retries once, at once.
    sentinel_kwargs: dict[str, Any] = {"retry": Retry(NoBackoff(), 0), **timeouts}
    for name in _SENTINEL_LOGIN:
        if parsed.options.get(name):
            sentinel_kwargs[name.removeprefix("sentinel_")] = parsed.options[name]
    connection: dict[str, Any] = {
        "username": parsed.username,
        "password": parsed.password,
        "db": db,
        "decode_responses": True,
        "retry": Retry(NoBackoff(), 1),
        **timeouts,
    }
    # Typed from redis 8 on, untyped before.
    sentinel = Sentinel(  # type: ignore[no-untyped-call,unused-ignore]
        parsed.hosts, sentinel_kwargs=sentinel_kwargs, **connection
    )
    client = sentinel.master_for(path[0])
    return RedisConnection(client, True, errors, False, tuple(sentinel.sentinels))


def _cluster(owner: str, url: str, errors: tuple[type[BaseException], ...]) -> RedisConnection:
    from redis.asyncio.cluster import ClusterNode, RedisCluster

    parsed = _parse(owner, url, _TIMEOUTS)
    if parsed.path not in ([], [""], ["0"]):
        raise parsed.bad("may name no database but 0: Redis Cluster has no other")
    client = RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in parsed.hosts],
        username=parsed.username,
        password=parsed.password,
        decode_responses=True,
        socket_timeout=parsed.timeout("socket_timeout"),
        socket_connect_timeout=parsed.timeout("socket_connect_timeout"),
    )
    return RedisConnection(client, True, errors, True)
