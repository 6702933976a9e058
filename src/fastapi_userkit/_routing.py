"""A route class that refuses oversized request bodies before reading them."""

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response, status
from fastapi.routing import APIRoute
from starlette.types import Message

from fastapi_userkit.db.outage import is_outage
from fastapi_userkit.errors import ErrorCode, database_unavailable, store_unavailable
from fastapi_userkit.sessions import SessionStoreUnavailableError

logger = logging.getLogger("fastapi_userkit.db")


def _too_large() -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_413_CONTENT_TOO_LARGE, detail=ErrorCode.REQUEST_TOO_LARGE.value
    )


class BoundedRoute(APIRoute):
    """`APIRoute` whose handler answers 413 once the body passes `body_limit`.

    The declared `Content-Length` is checked first; chunked bodies are counted
    as they arrive, so a client cannot stream an unbounded body either.
    """

    body_limit: int = 65_536

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler with the size check."""
        handler = super().get_route_handler()
        limit = self.body_limit

        async def bounded_handler(request: Request) -> Response:
            declared = request.headers.get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                raise _too_large()
            received = 0
            receive = request.receive

            async def counting_receive() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise _too_large()
                return message

            try:
                return await handler(Request(request.scope, counting_receive))
            except SessionStoreUnavailableError:
                raise store_unavailable() from None
            except Exception as error:
                if is_outage(error):
                    logger.warning("database unreachable: %s", type(error).__name__)
                    raise database_unavailable() from None
                raise

        return bounded_handler


def bounded_route_class(max_body_size: int) -> type[APIRoute]:
    """Return a `BoundedRoute` subclass with the given limit."""
    return type("BoundedRoute", (BoundedRoute,), {"body_limit": max_body_size})
