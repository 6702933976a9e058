"""How each kit route reads in OpenAPI: a stable `operationId`, a human summary and a
description, by route name (the names fastapi-users uses, for `url_for`).
"""

from fastapi import APIRouter
from fastapi.routing import APIRoute

#: route name -> (operationId, summary, description)
OPERATIONS: dict[str, tuple[str, str, str]] = {
    "register:register": (
        "register",
        "Create an account",
        "Creates an active, unverified account and answers with it (no tokens: log in "
        "next). With `USERKIT_PREVENT_ENUMERATION`, answers 202 alike for new and taken "
        "addresses.",
    ),
    "auth:jwt.login": (
        "login",
        "Log in and get tokens",
        "Checks the e-mail and password and opens a login session. Takes the OAuth2 "
        "password form (Swagger UI's *Authorize*), the RFC 6749 refresh-token grant, or "
        "JSON `{email, password}`; answers an access token and a refresh token.",
    ),
    "auth:jwt.refresh": (
        "refresh_tokens",
        "Trade a refresh token for new tokens",
        "Rotates the refresh token: the one sent is spent, and a token sent a second "
        "time revokes its whole session.",
    ),
    "auth:jwt.logout": (
        "logout",
        "Log out",
        "Ends the session of the access token: its access and refresh tokens stop working at once.",
    ),
    "auth:jwt.logout_all": (
        "logout_everywhere",
        "Log out everywhere",
        "Ends every session of the caller and invalidates every access token issued.",
    ),
    "auth:cookie.login": (
        "cookie_login",
        "Log in with cookies",
        "As `login`, with the tokens in `HttpOnly` cookies and a CSRF token cookie.",
    ),
    "auth:cookie.refresh": (
        "cookie_refresh",
        "Refresh the session cookies",
        "Rotates the refresh cookie; needs the `X-CSRF-Token` header.",
    ),
    "auth:cookie.logout": (
        "cookie_logout",
        "Log out and clear the cookies",
        "Ends the session of the cookies and deletes them; needs the `X-CSRF-Token` header.",
    ),
    "auth:sessions": (
        "list_sessions",
        "List your sessions",
        "The caller's live login sessions, oldest first, with the one of this request "
        "marked `current`.",
    ),
    "auth:delete_session": (
        "end_session",
        "End one of your sessions",
        "Ends one live session of the caller, e.g. a lost phone's. Another user's "
        "session is not found either.",
    ),
    "auth:jwks": (
        "jwks",
        "Public signing keys (JWKS)",
        "The public keys that verify access tokens (asymmetric algorithms only).",
    ),
    "reset:forgot_password": (
        "forgot_password",
        "Ask for a password reset link",
        "Always answers 202, whether or not the address has an account; an active "
        "account gets the link by e-mail.",
    ),
    "reset:reset_password": (
        "reset_password",
        "Set a new password with a reset link",
        "Uses the token of a reset link once; every session of the account ends.",
    ),
    "verify:request-token": (
        "request_verification",
        "Ask for a verification link",
        "Always answers 202; an active, unverified account gets the link by e-mail.",
    ),
    "verify:verify": (
        "verify",
        "Verify an address with its link",
        "Marks the address verified with the token of a verification link.",
    ),
    "users:current_user": ("get_me", "Your account", "The caller's own account."),
    "users:patch_current_user": (
        "update_me",
        "Change your profile",
        "Changes the caller's profile fields; a new address or password needs `current_password`.",
    ),
    "users:change_password": (
        "change_password",
        "Change your password",
        "Needs the current password; every other session ends.",
    ),
    "users:request_email_change": (
        "request_email_change",
        "Ask to change your address",
        "Needs the current password; the change applies when the link sent to the new "
        "address is used, and the old address gets a notice.",
    ),
    "users:confirm_email_change": (
        "confirm_email_change",
        "Confirm an address change with its link",
        "Applies the change the link was sent for; the new address is then verified.",
    ),
    "users:delete_current_user": (
        "delete_me",
        "Delete your account",
        "Needs the current password; every session ends.",
    ),
    "users:users": (
        "list_users",
        "List users (admins)",
        "A page of users ordered by address, optionally those whose address contains `q` "
        "and those holding the role `role`.",
    ),
    "users:user": ("get_user", "Get a user (admins)", "One user by id."),
    "users:patch_user": (
        "update_user",
        "Change a user (admins)",
        "Changes any field of a user, flags included (`is_superuser` and superusers' "
        "accounts by superusers only); a new password or a deactivation ends the user's "
        "sessions. Your own superuser flag and active status are not changed here.",
    ),
    "users:delete_user": (
        "delete_user",
        "Delete a user (admins)",
        "Deletes a user (not yourself: `DELETE /users/me` does) and ends every session of theirs.",
    ),
    "roles:roles": ("list_roles", "List roles (admins)", "Every role and its scopes, by name."),
    "roles:create_role": (
        "create_role",
        "Create a role (admins)",
        "Defines a role granting scopes. An admin who is not a superuser can only use "
        "scopes they hold.",
    ),
    "roles:role": ("get_role", "Get a role (admins)", "One role and its scopes."),
    "roles:replace_role": (
        "replace_role",
        "Change a role (admins)",
        "Gives the role exactly this description and these scopes; its holders gain and "
        "lose scopes on their next request.",
    ),
    "roles:delete_role": (
        "delete_role",
        "Delete a role (admins)",
        "Deletes the role and every grant of it, effective on the holders' next request.",
    ),
    "roles:current_user_roles": (
        "get_my_roles",
        "Your roles and scopes",
        "The roles you hold and the scopes they grant (superusers hold every scope).",
    ),
    "roles:user_roles": (
        "get_user_roles",
        "A user's roles (admins)",
        "The roles a user holds and the scopes they grant.",
    ),
    "roles:grant_role": (
        "grant_role",
        "Grant a role (admins)",
        "Gives the role to the user (nothing changes if they hold it).",
    ),
    "roles:revoke_role": (
        "revoke_role",
        "Revoke a role (admins)",
        "Takes the role from the user, effective on their next request.",
    ),
    "auth:jwt.reauthenticate": (
        "reauthenticate",
        "Prove who you are again",
        "Checks the password (and a code, for a user with a second factor) and answers a "
        "new access token for the same session whose authentication time is now, for the "
        "routes that need a recent login.",
    ),
    "auth:cookie.reauthenticate": (
        "cookie_reauthenticate",
        "Prove who you are again (cookies)",
        "As `reauthenticate`, renewing the access cookie; needs the `X-CSRF-Token` header.",
    ),
    "auth:jwt.login_mfa": (
        "login_second_factor",
        "Finish a login with a second factor",
        "Takes the `mfa_token` of the password step and a TOTP or recovery code, and "
        "answers the tokens of the new session.",
    ),
    "auth:cookie.login_mfa": (
        "cookie_login_second_factor",
        "Finish a cookie login with a second factor",
        "As `login_second_factor`, with the tokens in cookies.",
    ),
    "mfa:status": (
        "second_factors",
        "Your second factors",
        "Whether an authenticator app is enabled or waiting for its first code, and how "
        "many recovery codes are left.",
    ),
    "mfa:passkey_options": (
        "passkey_options",
        "Get a passkey challenge",
        "The options of `navigator.credentials.get()` and the token carrying their "
        "challenge: for a passkey login, the second step of a login, or a "
        "re-authentication.",
    ),
    "mfa:passkeys": (
        "list_passkeys",
        "List your passkeys",
        "The caller's passkeys, oldest first.",
    ),
    "mfa:passkey_registration_options": (
        "passkey_registration_options",
        "Start adding a passkey",
        "The options of `navigator.credentials.create()` and the token carrying their "
        "challenge. Needs a recent login.",
    ),
    "mfa:add_passkey": (
        "add_passkey",
        "Add a passkey",
        "Checks the browser's answer and stores the passkey; the first second factor "
        "also gets recovery codes, shown once. Needs a recent login.",
    ),
    "mfa:remove_passkey": (
        "remove_passkey",
        "Remove a passkey",
        "Removes one passkey; with no second factor left, the recovery codes go too. "
        "Needs a recent login.",
    ),
    "auth:jwt.login_passkey": (
        "login_passkey",
        "Log in with a passkey",
        "A passwordless login: the passkey's answer to a challenge of "
        "`passkey_options` names and proves the user; answers the tokens.",
    ),
    "auth:cookie.login_passkey": (
        "cookie_login_passkey",
        "Log in with a passkey (cookies)",
        "As `login_passkey`, with the tokens in cookies.",
    ),
    "mfa:totp": (
        "start_totp",
        "Start adding an authenticator app",
        "Answers a new secret, its `otpauth://` URI and a QR code; nothing is enabled "
        "until a first code confirms it. Needs a recent login.",
    ),
    "mfa:totp_confirm": (
        "confirm_totp",
        "Confirm the authenticator app",
        "Enables the app with a first code and answers the recovery codes, shown this once. "
        "Needs a recent login.",
    ),
    "mfa:recovery_codes": (
        "new_recovery_codes",
        "Get new recovery codes",
        "Replaces every recovery code with new ones, shown this once. Needs a recent login.",
    ),
    "mfa:remove": (
        "remove_second_factors",
        "Remove your second factors",
        "Removes the authenticator app, the passkeys and the recovery codes: the password "
        "alone logs in again. Needs a recent login.",
    ),
    "mfa:reset": (
        "reset_second_factors",
        "Remove a user's second factors (admins)",
        "For a user who lost their device and codes; they are told by e-mail. Needs a "
        "recent login.",
    ),
}


def describe(router: APIRouter) -> None:
    """Give each kit route of *router* its operationId, summary and description
    (a description the route states itself is kept).
    """
    for route in router.routes:
        if isinstance(route, APIRoute) and route.name in OPERATIONS:
            operation_id, summary, description = OPERATIONS[route.name]
            route.operation_id = route.operation_id or operation_id
            route.summary = route.summary or summary
            route.description = route.description or description
