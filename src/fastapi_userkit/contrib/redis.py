"""Login sessions in Redis, shared by every worker and process (extra `[redis]`).

```python
store = RedisSessionStore("redis://127.0.0.1:6379/0")
include_user_router(app, session_store=store)
```

Keys, all under *prefix*: `session:{id}` (hash), `rt:{sha256}` (hash: `sid`,
`exp`, `used`) and `user:{user_id}` (set of session ids). Every key expires at
its session's absolute end, so revoked sessions and spent tokens are kept exactly
as long as they matter. Times are UTC epoch microseconds. Refresh-token rotation
is one Lua script, atomic across processes. The scripts derive session keys from
the prefix, so use a single Redis node (or Sentinel), not Redis Cluster, and
`maxmemory-policy noeviction`: an evicted spent token can no longer be recognised.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi_userkit.contrib._redis_client import redis_client
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.exceptions import BadTokenError
from fastapi_userkit.login_sessions import (
    LoginSession,
    RefreshTokenReuseError,
    SessionStore,
    SessionStoreProvider,
    SessionStoreUnavailableError,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "RedisSessionStore",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

_CREATE = """
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'sid', ARGV[2], 'exp', ARGV[3], 'used', '0')
redis.call('PEXPIREAT', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
local left = redis.call('PTTL', KEYS[1])
if left <= 0 then
  redis.call('SREM', KEYS[3], ARGV[2])
elseif redis.call('PTTL', KEYS[3]) < left then
  redis.call('PEXPIRE', KEYS[3], left)
end
return 1
"""

# Times stay decimal strings: Lua compares them with tonumber (exact below 2^53)
# but would print large numbers in exponent notation.
_ROTATE = """
local tok = redis.call('HMGET', KEYS[1], 'sid', 'exp', 'used')
if not tok[1] then return {'bad', 'unknown refresh token'} end
local skey = ARGV[1] .. 'session:' .. tok[1]
local s = redis.call('HMGET', skey, 'revoked', 'expires_at')
local now = tonumber(ARGV[2])
if not s[2] or s[1] == '1' or now >= tonumber(s[2]) then return {'bad', 'session ended'} end
if tok[3] == '1' then
  redis.call('HSET', skey, 'revoked', '1')
  return {'reused', redis.call('HGETALL', skey)}
end
if now >= tonumber(tok[2]) then return {'bad', 'refresh token expired'} end
redis.call('HSET', KEYS[1], 'used', '1')
local exp = ARGV[3]
if tonumber(s[2]) < tonumber(exp) then exp = s[2] end
redis.call('HSET', KEYS[2], 'sid', tok[1], 'exp', exp, 'used', '0')
local left = redis.call('PTTL', skey)
if left > 0 then redis.call('PEXPIRE', KEYS[2], left) end
redis.call('HSET', skey, 'last_used_at', ARGV[2])
return {'ok', redis.call('HGETALL', skey)}
"""

_REVOKE = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'revoked', '1') end
return 1
"""

_REVOKE_ALL = """
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local skey = ARGV[1] .. 'session:' .. id
  if redis.call('EXISTS', skey) == 0 then
    redis.call('SREM', KEYS[1], id)
  elseif id ~= ARGV[2] then
    redis.call('HSET', skey, 'revoked', '1')
  end
end
return 1
"""


def _micros(value: datetime) -> str:
    return str((value - _EPOCH) // _MICROSECOND)


def _time(value: str) -> datetime:
    return _EPOCH + int(value) * _MICROSECOND


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _session(fields: Mapping[Any, Any] | list[Any]) -> LoginSession | None:
    if isinstance(fields, list):  # HGETALL inside a script: a flat key/value list
        fields = dict(zip(fields[::2], fields[1::2], strict=True))
    f = {_text(k): _text(v) for k, v in fields.items()}
    if "id" not in f:
        return None
    return LoginSession(
        id=f["id"],
        user_id=f["user_id"],
        created_at=_time(f["created_at"]),
        last_used_at=_time(f["last_used_at"]),
        expires_at=_time(f["expires_at"]),
        user_agent=f.get("user_agent"),
        ip=f.get("ip"),
        revoked=f["revoked"] == "1",
    )


class RedisSessionStore(SessionStore, SessionStoreProvider):
    """Login sessions in Redis, with the semantics of `MemorySessionStore`.

    Args:
        url: Redis URL, e.g. `redis://127.0.0.1:6379/0`; the store makes the client.
        client: An existing `redis.asyncio.Redis` instead of *url*; left open by `aclose()`.
        prefix: Prefix of every key the store writes.

    Raises:
        ImportError: the `redis` package is not installed.
        ConfigurationError: not exactly one of *url* and *client* was given.

    A connection error or timeout raises `SessionStoreUnavailableError`, which the
    kit answers with 503: requests fail closed, no token is ever accepted.
    """

    def __init__(
        self, url: str | None = None, *, client: "Redis | None" = None, prefix: str = "userkit:"
    ) -> None:
        # Any Redis failure (down, timeout, read-only replica, out of memory under
        # noeviction) fails closed as "unavailable", never as a 500.
        client, self._owns_client, self._errors = redis_client("RedisSessionStore", url, client)
        self.client: Redis = client
        self.prefix = prefix
        self._create = client.register_script(_CREATE)
        self._rotate = client.register_script(_ROTATE)
        self._revoke = client.register_script(_REVOKE)
        self._revoke_all = client.register_script(_REVOKE_ALL)

    def __repr__(self) -> str:
        return f"RedisSessionStore(prefix={self.prefix!r})"

    def bind(self, uow: UnitOfWork) -> SessionStore:  # noqa: D102 - see SessionStoreProvider
        return self

    async def aclose(self) -> None:
        """Close the client if the store created it (from *url*)."""
        if self._owns_client:
            await self.client.aclose()

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except self._errors as exc:
            raise SessionStoreUnavailableError(f"Redis is unreachable: {exc!r}") from exc

    def _key(self, kind: str, name: str) -> str:
        return f"{self.prefix}{kind}:{name}"

    async def create(  # noqa: D102 - see SessionStore
        self, session: LoginSession, refresh_hash: str, refresh_expires_at: datetime
    ) -> None:
        fields = {
            "id": session.id,
            "user_id": session.user_id,
            "created_at": _micros(session.created_at),
            "last_used_at": _micros(session.last_used_at),
            "expires_at": _micros(session.expires_at),
            "revoked": "1" if session.revoked else "0",
        }
        if session.user_agent is not None:
            fields["user_agent"] = session.user_agent
        if session.ip is not None:
            fields["ip"] = session.ip
        expire_ms = (session.expires_at - _EPOCH) // timedelta(milliseconds=1)
        keys = [
            self._key("session", session.id),
            self._key("rt", refresh_hash),
            self._key("user", session.user_id),
        ]
        args = [str(expire_ms), session.id, _micros(refresh_expires_at)]
        args += [item for pair in fields.items() for item in pair]
        with self._reachable():
            await self._create(keys=keys, args=args)

    async def get(self, session_id: str) -> LoginSession | None:  # noqa: D102
        with self._reachable():
            fields = await self.client.hgetall(self._key("session", session_id))
        return _session(fields)

    async def find(self, refresh_hash: str) -> LoginSession | None:  # noqa: D102
        with self._reachable():
            session_id = await self.client.hget(self._key("rt", refresh_hash), "sid")
            if session_id is None:
                return None
            fields = await self.client.hgetall(self._key("session", _text(session_id)))
        return _session(fields)

    async def rotate(  # noqa: D102
        self, old_hash: str, new_hash: str, ttl: timedelta, now: datetime
    ) -> LoginSession:
        keys = [self._key("rt", old_hash), self._key("rt", new_hash)]
        with self._reachable():
            reply = await self._rotate(
                keys=keys, args=[self.prefix, _micros(now), _micros(now + ttl)]
            )
        outcome, detail = _text(reply[0]), reply[1]
        if outcome == "bad":
            raise BadTokenError(_text(detail))
        session = _session(detail)
        if session is None:  # cannot happen: the script read it in the same step
            raise BadTokenError("session ended")
        if outcome == "reused":
            raise RefreshTokenReuseError(session)
        return session

    async def revoke(self, session_id: str) -> None:  # noqa: D102
        with self._reachable():
            await self._revoke(keys=[self._key("session", session_id)])

    async def revoke_all(self, user_id: str, *, keep: str | None = None) -> None:  # noqa: D102
        with self._reachable():
            await self._revoke_all(
                keys=[self._key("user", user_id)], args=[self.prefix, keep or ""]
            )

    async def list_active(self, user_id: str, now: datetime) -> list[LoginSession]:  # noqa: D102
        with self._reachable():
            ids = sorted(_text(i) for i in await self.client.smembers(self._key("user", user_id)))
            pipe = self.client.pipeline(transaction=False)
            for session_id in ids:
                pipe.hgetall(self._key("session", session_id))
            replies = await pipe.execute() if ids else []
        sessions = [_session(fields) for fields in replies]
        return sorted(
            (s for s in sessions if s and s.user_id == user_id and s.is_active(now)),
            key=lambda s: s.created_at,
        )
