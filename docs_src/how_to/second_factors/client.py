"""A client of the two-step login: what a front end or a script does."""

# --8<-- [start:login]
from collections.abc import Callable

import httpx


def log_in(client: httpx.Client, email: str, password: str, read_code: Callable[[], str]) -> dict:
    """Log in, asking *read_code* for a code when the account has a second factor."""
    answer = client.post("/auth/jwt/login", data={"username": email, "password": password})
    if answer.status_code == 403 and answer.json()["detail"] == "LOGIN_MFA_REQUIRED":
        challenge = answer.json()["mfa_token"]  # good for `expires_in` seconds
        answer = client.post(
            "/auth/jwt/login/mfa", json={"mfa_token": challenge, "code": read_code()}
        )
    answer.raise_for_status()
    return answer.json()  # access_token, refresh_token, expires_in


# --8<-- [end:login]
# --8<-- [start:reauthenticate]
def reauthenticate(client: httpx.Client, tokens: dict, password: str, code: str | None) -> dict:
    """Prove it again (the password, and a code if the account has a second factor):
    the new access token counts as fresh for `USERKIT_FRESH_MAX_AGE` seconds.
    """
    answer = client.post(
        "/auth/jwt/reauthenticate",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        json={"password": password, "code": code},
    )
    answer.raise_for_status()
    return {**tokens, "access_token": answer.json()["access_token"]}


# --8<-- [end:reauthenticate]
