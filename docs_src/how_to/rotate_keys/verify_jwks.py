from typing import Any

import jwt

jwks = jwt.PyJWKClient("https://auth.example.com/auth/jwks.json", lifespan=300)


def verify(token: str) -> dict[str, Any]:
    """Return the claims of a valid access token of the kit; raise jwt.PyJWTError."""
    if jwt.get_unverified_header(token).get("typ") != "at+jwt":
        raise jwt.InvalidTokenError("not an access token")
    signing_key = jwks.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(
        token,
        signing_key.key,
        algorithms=["EdDSA"],  # the kit's USERKIT_JWT_ALGORITHM, never taken from the token
        audience="fastapi-userkit",  # USERKIT_JWT_AUDIENCE
        issuer="fastapi-userkit",  # USERKIT_JWT_ISSUER
        options={"require": ["exp", "iat", "sub", "aud", "iss", "sid"]},
    )
    if claims.get("type") != "access":
        raise jwt.InvalidTokenError("not an access token")
    return claims
