"""Login sessions in Redis, shared by every worker and process (extra `[redis]`).

```python
store = RedisSessionStore("redis://127.0.0.1:6379/0")
store = RedisSessionStore("redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster/0")
store = RedisSessionStore("redis+cluster://10.0.0.1:6379,10.0.0.2:6379")
include_user_router(app, session_store=store)
```

The URL forms are listed in `RedisSessionStore` and in the Redis how-to. Times
are UTC epoch microseconds. Every key expires at its session's absolute end, so
revoked sessions and spent tokens are kept exactly as long as they matter; use
`maxmemory-policy noeviction`, since an evicted spent token can no longer be
recognised.

Keys, all under *prefix* (`<...>` stands for a value), on one node or behind Sentinel:

- `session:<id>` (hash): one session;
- `rt:<sha256>` (hash: `sid`, `exp`, `used`): one refresh token;
- `user:<user_id>` (set): the ids of the user's sessions.

In a Redis Cluster a script may only touch keys of one hash slot, named in its
KEYS. The keys of a user and of all their sessions and tokens therefore carry
the user's hash tag `{<U>}` (the user id, or its SHA-256 if it is empty or holds
a brace): `session:{<U>}:<id>`, `rt:{<U>}:<sha256>` and `user:{<U>}`. The store
is asked for a session by its id alone and for a token by its hash alone, so two
index keys, written before the data they lead to and never changed, give the
user: `idx:session:<id>` (string: the user id) and `idx:rt:<sha256>` (hash:
`sid`, `uid`).

The same scripts run in both layouts, each on keys of one slot named in KEYS:
creating a session (with its first token and its place in the user's set),
rotating a refresh token (spend, detect reuse and revoke, issue the next one, in
one atomic step), revoking one session, and revoking the sessions of a user.
"""

import hashlib
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi_userkit.contrib._redis_client import redis_client
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.exceptions import BadTokenError, ConfigurationError
from fastapi_userkit.login_sessions import (
    LoginSession,
    RefreshTokenReuseError,
    SessionStore,
    SessionStoreProvider,
    SessionStoreUnavailableError,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis, RedisCluster

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

# KEYS: the spent token, the session, the next token; ARGV[1] is the session id
# the caller found for the spent token (it never changes, but it decides the
# session key, which must be named in KEYS: the script checks it rather than
# derive the key itself). Times stay decimal strings: Lua compares them with
# tonumber (exact below 2^53) but would print large numbers in exponent notation.
_ROTATE = """
local tok = redis.call('HMGET', KEYS[1], 'sid', 'exp', 'used')
if not tok[1] or tok[1] ~= ARGV[1] then return {'bad', 'unknown refresh token'} end
local s = redis.call('HMGET', KEYS[2], 'revoked', 'expires_at')
local now = tonumber(ARGV[2])
if not s[2] or s[1] == '1' or now >= tonumber(s[2]) then return {'bad', 'session ended'} end
if tok[3] == '1' then
  redis.call('HSET', KEYS[2], 'revoked', '1')
  return {'reused', redis.call('HGETALL', KEYS[2])}
end
if now >= tonumber(tok[2]) then return {'bad', 'refresh token expired'} end
redis.call('HSET', KEYS[1], 'used', '1')
local exp = ARGV[3]
if tonumber(s[2]) < tonumber(exp) then exp = s[2] end
redis.call('HSET', KEYS[3], 'sid', tok[1], 'exp', exp, 'used', '0')
local left = redis.call('PTTL', KEYS[2])
if left > 0 then redis.call('PEXPIRE', KEYS[3], left) end
redis.call('HSET', KEYS[2], 'last_used_at', ARGV[2])
return {'ok', redis.call('HGETALL', KEYS[2])}
"""

_REVOKE = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'revoked', '1') end
return 1
"""

# KEYS: the user's set, then the key of each session id in ARGV[3...] (the set's
# members as the caller read them). A session is added to the set in the same
# step that creates it, so every session that existed when the set was read is
# ended here, in one step; one created since is a login after the logout-all.
# Members whose session is gone (expired) are dropped from the set.
_REVOKE_ALL = """
for i = 2, #KEYS do
  local id = ARGV[i + 1]
  local owner = redis.call('HGET', KEYS[i], 'user_id')
  if not owner then
    redis.call('SREM', KEYS[1], id)
  elseif owner == ARGV[1] and id ~= ARGV[2] then
    redis.call('HSET', KEYS[i], 'revoked', '1')
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


def _tag(user_id: str) -> str:
    """The hash tag of a user's keys in a Cluster: the id itself when it can be one."""
    # A tag ends at the first "}" and an empty one counts as none, so an id that
    # could cut it short is replaced by its digest. Should two users ever share a
    # tag (an id that spells another's digest), they share a set, not a session:
    # the scripts and `list_active` check each session's owner.
    if user_id and "{" not in user_id and "}" not in user_id:
        return user_id
    return hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).hexdigest()


class _Keys:
    """Key names: the single-node layout, or the Cluster one with hash tags."""

    def __init__(self, prefix: str, *, tagged: bool) -> None:
        self.prefix = prefix
        self.tagged = tagged

    def tag(self, user_id: str) -> str:
        """Put before the id in the keys of the user's sessions and tokens."""
        return f"{{{_tag(user_id)}}}:" if self.tagged else ""

    def session(self, tag: str, session_id: str) -> str:
        return f"{self.prefix}session:{tag}{session_id}"

    def token(self, tag: str, refresh_hash: str) -> str:
        return f"{self.prefix}rt:{tag}{refresh_hash}"

    def user(self, user_id: str) -> str:
        if self.tagged:
            return f"{self.prefix}user:{{{_tag(user_id)}}}"
        return f"{self.prefix}user:{user_id}"

    # The indexes of the Cluster layout: from a session id or a token hash to the tag.

    def session_index(self, session_id: str) -> str:
        return f"{self.prefix}idx:session:{session_id}"

    def token_index(self, refresh_hash: str) -> str:
        return f"{self.prefix}idx:rt:{refresh_hash}"


class RedisSessionStore(SessionStore, SessionStoreProvider):
    """Login sessions in Redis, with the semantics of `MemorySessionStore`.

    Args:
        url: Redis URL: `redis://127.0.0.1:6379/0` (one node),
            `redis+sentinel://host:26379[,host:26379...]/<service_name>[/<db>]` or
            `redis+cluster://host:6379[,host:6379...]`; the store makes the client.
        client: An existing `redis.asyncio.Redis` (a Sentinel's `master_for()` is
            one) or `redis.asyncio.RedisCluster` instead of *url*; left open by `aclose()`.
        prefix: Prefix of every key the store writes; with Redis Cluster it may not
            hold `{` or `}`, which would take over the keys' hash tags.

    Raises:
        ImportError: the `redis` package is not installed.
        ConfigurationError: not exactly one of *url* and *client* was given, the URL
            cannot be understood, or the prefix holds a brace on a Cluster.

    A connection error or timeout, from a node, a Sentinel or a Cluster, raises
    `SessionStoreUnavailableError`, which the kit answers with 503: requests fail
    closed, no token is ever accepted.
    """

    owners_cached: int = 4096
    """Session ids whose user the store remembers (Cluster only; the pairs never change)."""

    def __init__(
        self,
        url: str | None = None,
        *,
        client: "Redis | RedisCluster | None" = None,
        prefix: str = "userkit:",
    ) -> None:
        # Any Redis failure (down, timeout, read-only replica, out of memory under
        # noeviction) fails closed as "unavailable", never as a 500.
        self._connection = redis_client("RedisSessionStore", url, client)
        self._errors = self._connection.errors
        self.client: Redis | RedisCluster = self._connection.client
        self.prefix = prefix
        if self._connection.cluster and ("{" in prefix or "}" in prefix):
            raise ConfigurationError(
                "RedisSessionStore: with Redis Cluster the prefix may not hold { or }"
            )
        self._keys = _Keys(prefix, tagged=self._connection.cluster)
        self._owners: OrderedDict[str, str] = OrderedDict()
        self._create = self.client.register_script(_CREATE)
        self._rotate = self.client.register_script(_ROTATE)
        self._revoke = self.client.register_script(_REVOKE)
        self._revoke_all = self.client.register_script(_REVOKE_ALL)

    def __repr__(self) -> str:
        return f"RedisSessionStore(prefix={self.prefix!r})"

    def bind(self, uow: UnitOfWork) -> SessionStore:  # noqa: D102 - see SessionStoreProvider
        return self

    async def aclose(self) -> None:
        """Close the client if the store created it (from *url*)."""
        if self._connection.owned:
            await self.client.aclose()
            await self._connection.aclose()

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except self._errors as exc:
            raise SessionStoreUnavailableError(f"Redis is unreachable: {exc!r}") from exc

    async def _owner(self, session_id: str) -> str | None:
        """The user of *session_id*, from the Cluster layout's index."""
        owner = self._owners.get(session_id)
        if owner is not None:
            self._owners.move_to_end(session_id)
            return owner
        found = await self.client.get(self._keys.session_index(session_id))
        if found is None:
            return None
        owner = self._owners[session_id] = _text(found)
        if len(self._owners) > self.owners_cached:
            self._owners.popitem(last=False)
        return owner

    async def _session_key(self, session_id: str) -> str | None:
        if not self._keys.tagged:
            return self._keys.session("", session_id)
        owner = await self._owner(session_id)
        return None if owner is None else self._keys.session(self._keys.tag(owner), session_id)

    async def _token_owner(self, refresh_hash: str) -> tuple[str, str, int] | None:
        """The session id and user id of a token, and the milliseconds its index has
        left (Cluster layout).
        """
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(self._keys.token_index(refresh_hash), ["sid", "uid"])
        pipe.pttl(self._keys.token_index(refresh_hash))
        (session_id, user_id), left = await pipe.execute()
        if session_id is None or user_id is None:
            return None
        return _text(session_id), _text(user_id), int(left)

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
        tag = self._keys.tag(session.user_id)
        keys = [
            self._keys.session(tag, session.id),
            self._keys.token(tag, refresh_hash),
            self._keys.user(session.user_id),
        ]
        args = [str(expire_ms), session.id, _micros(refresh_expires_at)]
        args += [item for pair in fields.items() for item in pair]
        with self._reachable():
            if self._keys.tagged:
                # The indexes first, so the session is found as soon as it exists;
                # one left by a failed create leads nowhere and expires with it.
                token_index = self._keys.token_index(refresh_hash)
                pipe = self.client.pipeline(transaction=False)
                pipe.set(self._keys.session_index(session.id), session.user_id, pxat=expire_ms)
                pipe.hset(token_index, mapping={"sid": session.id, "uid": session.user_id})
                pipe.pexpireat(token_index, expire_ms)
                await pipe.execute()
            await self._create(keys=keys, args=args)

    async def get(self, session_id: str) -> LoginSession | None:  # noqa: D102
        with self._reachable():
            key = await self._session_key(session_id)
            fields = {} if key is None else await self.client.hgetall(key)
        return _session(fields)

    async def find(self, refresh_hash: str) -> LoginSession | None:  # noqa: D102
        with self._reachable():
            if self._keys.tagged:
                found = await self._token_owner(refresh_hash)
                if found is None:
                    return None
                session_id, tag = found[0], self._keys.tag(found[1])
            else:
                sid = await self.client.hget(self._keys.token("", refresh_hash), "sid")
                if sid is None:
                    return None
                session_id, tag = _text(sid), ""
            fields = await self.client.hgetall(self._keys.session(tag, session_id))
        return _session(fields)

    async def rotate(  # noqa: D102
        self, old_hash: str, new_hash: str, ttl: timedelta, now: datetime
    ) -> LoginSession:
        new_index = self._keys.token_index(new_hash)
        with self._reachable():
            # Find the token's session first: the script must be told every key it
            # touches, and only the spent token knows which session it belongs to.
            if self._keys.tagged:
                found = await self._token_owner(old_hash)
                if found is None or found[2] <= 0:
                    raise BadTokenError("unknown refresh token")
                session_id, user_id, left = found
                tag = self._keys.tag(user_id)
                # The next token's index goes first, living as long as the session
                # (as its predecessor's does); if the rotation is refused it is dropped.
                pipe = self.client.pipeline(transaction=False)
                pipe.hset(new_index, mapping={"sid": session_id, "uid": user_id})
                pipe.pexpire(new_index, left)
                await pipe.execute()
            else:
                sid = await self.client.hget(self._keys.token("", old_hash), "sid")
                if sid is None:
                    raise BadTokenError("unknown refresh token")
                session_id, tag = _text(sid), ""
            keys = [
                self._keys.token(tag, old_hash),
                self._keys.session(tag, session_id),
                self._keys.token(tag, new_hash),
            ]
            reply = await self._rotate(
                keys=keys, args=[session_id, _micros(now), _micros(now + ttl)]
            )
            outcome, detail = _text(reply[0]), reply[1]
        if outcome != "ok" and self._keys.tagged:
            # Tidying only: the index leads to no token and expires with the session,
            # so failing to drop it must not hide the answer.
            with suppress(*self._errors):
                await self.client.delete(new_index)
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
            key = await self._session_key(session_id)
            if key is not None:
                await self._revoke(keys=[key])

    async def revoke_all(self, user_id: str, *, keep: str | None = None) -> None:  # noqa: D102
        user_key, tag = self._keys.user(user_id), self._keys.tag(user_id)
        with self._reachable():
            ids = [_text(i) for i in await self.client.smembers(user_key)]
            if ids:
                keys = [user_key] + [self._keys.session(tag, i) for i in ids]
                await self._revoke_all(keys=keys, args=[user_id, keep or "", *ids])

    async def list_active(self, user_id: str, now: datetime) -> list[LoginSession]:  # noqa: D102
        user_key, tag = self._keys.user(user_id), self._keys.tag(user_id)
        with self._reachable():
            ids = sorted(_text(i) for i in await self.client.smembers(user_key))
            pipe = self.client.pipeline(transaction=False)
            for session_id in ids:
                pipe.hgetall(self._keys.session(tag, session_id))
            replies = await pipe.execute() if ids else []
        sessions = [_session(fields) for fields in replies]
        return sorted(
            (s for s in sessions if s and s.user_id == user_id and s.is_active(now)),
            key=lambda s: s.created_at,
        )
