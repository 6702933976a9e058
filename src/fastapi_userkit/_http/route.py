"""The route class of every kit route: it refuses oversized request bodies before
reading them, answers 503 during an outage, keeps submitted values out of
validation errors (and so out of logs and tracebacks), marks answers
`Cache-Control: no-store` unless the route set its own, sends a 204 without a
content type, and lists in the `Allow` of a 405 every method the path serves.
"""

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import fastapi.routing
from fastapi import HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Message, Receive, Scope, Send

from fastapi_userkit.db._outage import is_outage
from fastapi_userkit.errors import ErrorCode, Flow, database_unavailable, http_exception
from fastapi_userkit.exceptions import UnavailableError

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
                response = await handler(Request(request.scope, counting_receive))
            except RequestValidationError as exc:
                # Without the submitted values: a password or token must not be echoed
                # to the client nor printed in a traceback (hence `from None`).
                raise RequestValidationError(redacted(exc.errors())) from None
            except StarletteHTTPException as exc:  # FastAPI raises Starlette's
                if exc.status_code == 400 and exc.detail == _UNPARSEABLE:
                    # FastAPI's answer to a body its parser gave up on (e.g. JSON nested
                    # too deep to decode): the same 422 as any other malformed JSON.
                    raise RequestValidationError(_unparseable_body()) from None
                raise
            except UnavailableError as error:  # wherever it was raised: a 503, not a 500
                raise http_exception(error, Flow.ACCOUNT) from None
            except Exception as error:
                if is_outage(error):
                    logger.warning("database unreachable: %s", type(error).__name__)
                    raise database_unavailable() from None
                raise
            # Every kit answer is about an account or its tokens: never cached.
            response.headers.setdefault("Cache-Control", "no-store")
            if response.status_code == status.HTTP_204_NO_CONTENT:
                # No content, so no content type (RFC 9110 §15.3.5): FastAPI's
                # default response class would still name JSON.
                response.body = b""
                if "content-type" in response.headers:
                    del response.headers["content-type"]
            return response

        return bounded_handler

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a method the route does not serve with a 405 whose `Allow` lists
        every method the path serves (RFC 9110 §15.5.6), not only this route's:
        `/users/me`, for one, is served by several routes.
        """
        if self.methods and scope["method"] not in self.methods:
            allowed = set(self.methods)
            for route in effective_routes(getattr(scope.get("router"), "routes", [])):
                methods = getattr(route, "methods", None)
                if methods and route.matches(scope)[0] is not Match.NONE:
                    allowed |= methods
            raise StarletteHTTPException(
                status.HTTP_405_METHOD_NOT_ALLOWED, headers={"Allow": ", ".join(sorted(allowed))}
            )
        await super().handle(scope, receive, send)


def effective_routes(routes: Sequence[BaseRoute]) -> list[Any]:
    """*routes* as requests meet them, included routers' routes with their prefix
    and router dependencies: FastAPI 0.16x keeps an included router whole and
    gives each of its routes an effective context; older versions copy the routes.
    """
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    return list(iterate(routes)) if iterate is not None else list(routes)


_UNPARSEABLE = "There was an error parsing the body"


def _unparseable_body() -> list[dict[str, Any]]:
    return [
        {
            "type": "json_invalid",
            "loc": ("body",),
            "msg": "JSON decode error",
            "ctx": {"error": "the body could not be parsed"},
        }
    ]


def redacted(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation *errors* without the submitted values (`input`), and with paths
    that can be rendered as JSON (a lone surrogate in a key becomes U+FFFD).
    """
    clean = []
    for error in errors:
        item = {k: v for k, v in error.items() if k != "input"}
        item["loc"] = tuple(_printable(part) for part in error.get("loc", ()))
        clean.append(item)
    return clean


def _printable(part: Any) -> Any:
    if isinstance(part, str):
        return part.encode("utf-8", "replace").decode("utf-8")
    return part


def bounded_route_class(max_body_size: int) -> type[APIRoute]:
    """Return a `BoundedRoute` subclass with the given limit."""
    return type("BoundedRoute", (BoundedRoute,), {"body_limit": max_body_size})
