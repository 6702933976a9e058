"""Cookie transport: cookie names and attributes, and the CSRF defences.

Tokens travel in cookies when `USERKIT_COOKIE_TRANSPORT=true`: the access and
refresh tokens in `HttpOnly` cookies, and a CSRF token in a cookie JavaScript can
read. Every unsafe request authenticated by cookie must repeat that token in the
`X-CSRF-Token` header (double submit) and must not come from another site
(`Sec-Fetch-Site` / `Origin`). With `Secure` cookies the names carry the
`__Host-` prefix, so a sibling subdomain cannot plant or overwrite them.
"""

import hmac
import secrets
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response, status
from starlette.requests import HTTPConnection

from fastapi_userkit.errors import ErrorCode

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class CookieConfig:
    """Names and attributes of the kit's cookies."""

    secure: bool
    samesite: Literal["lax", "strict"]
    trusted_origins: frozenset[str]

    @property
    def _prefix(self) -> str:
        return "__Host-" if self.secure else ""

    @property
    def access_name(self) -> str:
        """Cookie holding the access token (HttpOnly)."""
        return f"{self._prefix}userkit_access"

    @property
    def refresh_name(self) -> str:
        """Cookie holding the refresh token (HttpOnly)."""
        return f"{self._prefix}userkit_refresh"

    @property
    def csrf_name(self) -> str:
        """Cookie holding the CSRF token (readable by the page's JavaScript)."""
        return f"{self._prefix}userkit_csrf"

    def set_tokens(
        self, response: Response, *, access: str, access_ttl: int, refresh: str, refresh_ttl: int
    ) -> None:
        """Put a new token pair and a new CSRF token on *response*."""
        common = {"path": "/", "secure": self.secure, "samesite": self.samesite}
        response.set_cookie(
            self.access_name,
            access,
            max_age=access_ttl,
            httponly=True,
            **common,  # type: ignore[arg-type]
        )
        response.set_cookie(
            self.refresh_name,
            refresh,
            max_age=refresh_ttl,
            httponly=True,
            **common,  # type: ignore[arg-type]
        )
        response.set_cookie(
            self.csrf_name,
            secrets.token_urlsafe(32),
            max_age=refresh_ttl,
            httponly=False,
            **common,  # type: ignore[arg-type]
        )

    def set_access(self, response: Response, access: str, access_ttl: int) -> None:
        """Put a new access token on *response* (a re-authentication); the refresh
        and CSRF cookies stay as they are.
        """
        response.set_cookie(
            self.access_name,
            access,
            max_age=access_ttl,
            httponly=True,
            path="/",
            secure=self.secure,
            samesite=self.samesite,
        )

    def clear(self, response: Response) -> None:
        """Delete every cookie of the kit."""
        for name in (self.access_name, self.refresh_name, self.csrf_name):
            response.delete_cookie(
                name,
                path="/",
                secure=self.secure,
                httponly=name != self.csrf_name,
                samesite=self.samesite,
            )

    def check_origin(self, request: HTTPConnection) -> None:
        """Refuse a request a browser marks as coming from another site (403)."""
        origin = request.headers.get("origin")
        trusted = origin is not None and origin in self.trusted_origins
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none") and not trusted:
            raise csrf_failed()
        if origin is not None and not trusted:
            host = request.headers.get("host", "")
            if origin == "null" or urlsplit(origin).netloc.lower() != host.lower():
                raise csrf_failed()

    def check_csrf(self, request: Request) -> None:
        """Refuse an unsafe cookie-authenticated request without the CSRF token (403)."""
        if request.method in SAFE_METHODS:
            return
        self.check_origin(request)
        cookie = request.cookies.get(self.csrf_name, "")
        header = request.headers.get(CSRF_HEADER, "")
        if not cookie or not hmac.compare_digest(cookie.encode(), header.encode()):
            raise csrf_failed()


def csrf_failed() -> HTTPException:
    """The 403 for a request that failed the CSRF checks."""
    return HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=ErrorCode.CSRF_FAILED.value)
