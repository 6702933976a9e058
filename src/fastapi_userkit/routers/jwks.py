"""`GET /auth/jwks.json`: the public keys that verify access tokens (RFC 7517).

Mounted only when the kit signs with an asymmetric algorithm, so that other
services can verify its access tokens without sharing a secret. HMAC kits have no
public key to publish: the route does not exist there (404).
"""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from fastapi_userkit._keys import KeyRing
from fastapi_userkit.errors import TOO_LARGE, documented

#: How long other services may cache the key set, in seconds.
JWKS_MAX_AGE = 300


def create_jwks_router(keys: KeyRing, route_class: type[APIRoute]) -> APIRouter:
    """Build the router publishing the kit's JWK Set; empty for HMAC algorithms."""
    router = APIRouter(route_class=route_class)
    if not keys.asymmetric:
        return router
    document = keys.jwks()
    headers = {"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"}

    @router.get(
        "/jwks.json",
        name="auth:jwks",
        response_class=JSONResponse,
        responses={
            200: {"description": "The JWK Set of the keys that verify access tokens."},
            **documented({413: TOO_LARGE}),
        },
    )
    async def jwks() -> JSONResponse:
        """Return the public keys that verify this service's access tokens."""
        return JSONResponse(document, headers=headers)

    return router
