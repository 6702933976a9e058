"""The Redis client both Redis back-ends start from (extra `[redis]`)."""

from typing import TYPE_CHECKING

from fastapi_userkit.exceptions import ConfigurationError

if TYPE_CHECKING:
    from redis.asyncio import Redis

TIMEOUT = 5.0  # seconds; a `socket_timeout=` in the URL takes precedence


def redis_client(
    owner: str, url: str | None, client: "Redis | None"
) -> tuple["Redis", bool, tuple[type[BaseException], ...]]:
    """Return the client for *owner* (a class name, for messages), whether the
    caller created it (and so must close it), and the errors that mean "Redis is
    unavailable" (any Redis failure or socket error, never a 500).

    Raises:
        ImportError: the `redis` package is missing (with the install hint).
        ConfigurationError: not exactly one of *url* and *client*.
    """
    try:
        import redis.asyncio as aioredis
        from redis import exceptions
    except ImportError as exc:
        raise ImportError(
            f'{owner} needs the redis package: pip install "fastapi-userkit[redis]"'
        ) from exc
    if (url is None) == (client is None):
        raise ConfigurationError(f"{owner} needs exactly one of url= and client=")
    errors: tuple[type[BaseException], ...] = (exceptions.RedisError, OSError)
    if client is not None:
        return client, False, errors
    created = aioredis.Redis.from_url(
        str(url), decode_responses=True, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT
    )
    return created, True, errors
