"""Second factors: `/auth/mfa` (the caller's own: status, enrol an authenticator
app, confirm it, add, list and remove passkeys, new recovery codes, remove all),
`POST /auth/passkey/options` (the challenge of a passkey assertion) and
`DELETE /users/{id}/mfa` (admins).

Every change needs a fresh authentication (`USERKIT_FRESH_MAX_AGE`): someone
holding a stolen access token cannot enrol their own app, read new recovery
codes or remove the owner's factors.
"""

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, status
from fastapi.routing import APIRoute

from fastapi_userkit._accounts.administration import user_by_url_id
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.login_sessions import Authentication, StoreFactory
from fastapi_userkit._accounts.second_factors import SecondFactors
from fastapi_userkit._http.dependencies import Dependencies, Requirements
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.db.mfa import CREDENTIAL_ID_LENGTH, PasskeyRow
from fastapi_userkit.errors import (
    NOT_FOUND_DETAIL,
    ErrorCode,
    Flow,
    Refusals,
    answering,
    refused,
)
from fastapi_userkit.exceptions import InsufficientScopeError
from fastapi_userkit.routers._common import answers, own_account
from fastapi_userkit.schemas import (
    CodeRequest,
    MfaStatus,
    PasskeyAdded,
    PasskeyOptions,
    PasskeyRead,
    PasskeyRegistration,
    RecoveryCodes,
    TotpEnrolment,
)

_NOT_ENABLED = refused(
    "No second factor is enabled (`MFA_NOT_ENABLED`).", ErrorCode.MFA_NOT_ENABLED
)
_HAS_ONE = refused(
    "An authenticator app is enabled already (`MFA_ALREADY_ENABLED`): remove it first.",
    ErrorCode.MFA_ALREADY_ENABLED,
)
_WRONG_CODE = refused(
    "The code is wrong (`MFA_CODE_INVALID`): check the device's clock.",
    ErrorCode.MFA_CODE_INVALID,
)
_NO_PENDING = refused(
    "No enrolment is waiting (`MFA_NOT_ENABLED`), or the app is enabled already "
    "(`MFA_ALREADY_ENABLED`).",
    ErrorCode.MFA_NOT_ENABLED,
    ErrorCode.MFA_ALREADY_ENABLED,
)


def _passkey(row: PasskeyRow) -> PasskeyRead:
    return PasskeyRead(
        id=row.credential_id,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


def create_mfa_router(
    factors: SecondFactors,
    users: StoreFactory,
    parse_id: Any,
    deps: Dependencies,
    route_class: type[APIRoute],
    *,
    fresh: int,
    admin: Requirements,
) -> APIRouter:
    """Build the router of second factors."""
    router = APIRouter(route_class=route_class)
    own = own_account(verified=False)
    own_fresh = replace(own, fresh=fresh)
    admin_fresh = replace(admin, fresh=fresh)
    user = deps.current_user(own)
    fresh_user = deps.current_user(own_fresh)

    @router.get(
        "/auth/mfa",
        response_model=MfaStatus,
        name="mfa:status",
        tags=["mfa"],
        responses=answers(deps.refusals(own, {"GET"})),
    )
    async def mfa_status(
        caller: Annotated[Any, Depends(user)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
    ) -> Any:
        found = await factors.status(uow, caller)
        return MfaStatus(
            totp=found.totp,
            totp_pending=found.totp_pending,
            passkeys=found.passkeys,
            recovery_codes_left=found.recovery_codes_left,
        )

    @router.post(
        "/auth/passkey/options",
        response_model=PasskeyOptions,
        name="mfa:passkey_options",
        tags=["mfa"],
        responses=answers(),
    )
    async def passkey_options(
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        options, token = await factors.passkey_options(uow, None, origin)
        return PasskeyOptions(options=options, token=token)

    @router.get(
        "/auth/mfa/passkeys",
        response_model=list[PasskeyRead],
        name="mfa:passkeys",
        tags=["mfa"],
        responses=answers(deps.refusals(own, {"GET"})),
    )
    async def list_passkeys(
        caller: Annotated[Any, Depends(user)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
    ) -> Any:
        return [_passkey(row) for row in await factors.passkeys(uow, caller)]

    @router.post(
        "/auth/mfa/passkey-options",
        response_model=PasskeyOptions,
        name="mfa:passkey_registration_options",
        tags=["mfa"],
        responses=answers(deps.refusals(own_fresh, {"POST"})),
    )
    async def passkey_registration_options(
        caller: Annotated[Any, Depends(fresh_user)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        options, token = await factors.begin_passkey(uow, caller, origin)
        return PasskeyOptions(options=options, token=token)

    @router.post(
        "/auth/mfa/passkeys",
        response_model=PasskeyAdded,
        status_code=status.HTTP_201_CREATED,
        name="mfa:add_passkey",
        tags=["mfa"],
        responses=answers(
            deps.refusals(own_fresh, {"POST"}),
            {
                400: refused(
                    "The token is unknown, expired or another account's "
                    "(`MFA_CHALLENGE_INVALID`), the registration does not verify "
                    "(`MFA_CODE_INVALID`), or the passkey is registered already "
                    "(`MFA_ALREADY_ENABLED`).",
                    ErrorCode.MFA_CHALLENGE_INVALID,
                    ErrorCode.MFA_CODE_INVALID,
                    ErrorCode.MFA_ALREADY_ENABLED,
                )
            },
        ),
    )
    async def add_passkey(
        body: PasskeyRegistration,
        caller: Annotated[Any, Depends(fresh_user)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        with answering(Flow.ACCOUNT):
            row, codes = await factors.add_passkey(
                uow, caller, body.token, body.credential, body.name, origin
            )
        return PasskeyAdded(passkey=_passkey(row), recovery_codes=codes)

    @router.delete(
        "/auth/mfa/passkeys/{credential_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        name="mfa:remove_passkey",
        tags=["mfa"],
        responses=answers(
            deps.refusals(own_fresh, {"DELETE"}),
            {404: refused("You have no passkey with this id.", ErrorCode.PASSKEY_NOT_FOUND)},
        ),
    )
    async def remove_passkey(
        credential_id: Annotated[str, Path(max_length=CREDENTIAL_ID_LENGTH)],
        caller: Annotated[Any, Depends(fresh_user)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.ACCOUNT):
            await factors.remove_passkey(uow, caller, credential_id, origin)

    @router.post(
        "/auth/mfa/totp",
        response_model=TotpEnrolment,
        status_code=status.HTTP_201_CREATED,
        name="mfa:totp",
        tags=["mfa"],
        responses=answers(deps.refusals(own_fresh, {"POST"}), {400: _HAS_ONE}),
    )
    async def begin_totp(
        caller: Annotated[Any, Depends(fresh_user)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        with answering(Flow.ACCOUNT):
            enrolment = await factors.begin_totp(uow, caller, origin)
        return TotpEnrolment(secret=enrolment.secret, uri=enrolment.uri, qr_code=enrolment.qr_code)

    @router.post(
        "/auth/mfa/totp/confirm",
        response_model=RecoveryCodes,
        name="mfa:totp_confirm",
        tags=["mfa"],
        responses=answers(deps.refusals(own_fresh, {"POST"}), {400: _NO_PENDING | _WRONG_CODE}),
    )
    async def confirm_totp(
        body: CodeRequest,
        caller: Annotated[Any, Depends(fresh_user)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        with answering(Flow.ACCOUNT):
            codes = await factors.confirm_totp(uow, caller, body.code, origin)
        return RecoveryCodes(recovery_codes=codes)

    @router.post(
        "/auth/mfa/recovery-codes",
        response_model=RecoveryCodes,
        name="mfa:recovery_codes",
        tags=["mfa"],
        responses=answers(deps.refusals(own_fresh, {"POST"}), {400: _NOT_ENABLED}),
    )
    async def regenerate_codes(
        caller: Annotated[Any, Depends(fresh_user)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        with answering(Flow.ACCOUNT):
            codes = await factors.regenerate_codes(uow, caller, origin)
        return RecoveryCodes(recovery_codes=codes)

    @router.delete(
        "/auth/mfa",
        status_code=status.HTTP_204_NO_CONTENT,
        name="mfa:remove",
        tags=["mfa"],
        responses=answers(deps.refusals(own_fresh, {"DELETE"}), {400: _NOT_ENABLED}),
    )
    async def remove(
        caller: Annotated[Any, Depends(fresh_user)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.ACCOUNT):
            await factors.remove(uow, caller, origin)

    @router.delete(
        "/users/{user_id}/mfa",
        status_code=status.HTTP_204_NO_CONTENT,
        name="mfa:reset",
        tags=["mfa"],
        responses=answers(
            deps.refusals(admin_fresh, {"DELETE"}),
            {
                400: _NOT_ENABLED,
                403: Refusals(
                    "You are not a superuser and the user is one (`INSUFFICIENT_SCOPE`).",
                    (ErrorCode.INSUFFICIENT_SCOPE.value,),
                    headers=("WWW-Authenticate",),
                ),
                404: refused("No user has this id.", NOT_FOUND_DETAIL),
            },
        ),
    )
    async def reset(
        user_id: str,
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        _admin: Annotated[Any, Depends(deps.current_user(admin_fresh))],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.ACCOUNT):
            target = await user_by_url_id(users(uow), parse_id, user_id)
            if target.is_superuser and not auth.user.is_superuser:
                raise InsufficientScopeError(())
            await factors.remove(uow, target, origin, actor=auth.user)

    return router
