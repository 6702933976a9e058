"""`POST /auth/register`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.registration import Registration
from fastapi_userkit._http.dependencies import Dependencies
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, Flow, answering, refused
from fastapi_userkit.routers._common import THROTTLED, answers, refuse_privileged
from fastapi_userkit.schemas import UserSchemas


def create_register_router(
    registration: Registration,
    deps: Dependencies,
    route_class: type[APIRoute],
    schemas: UserSchemas,
    *,
    prevent_enumeration: bool,
) -> APIRouter:
    """Build the registration router."""
    router = APIRouter(route_class=route_class)
    create_schema = schemas.create

    @router.post(
        "/register",
        status_code=status.HTTP_201_CREATED,
        response_model=schemas.read,
        name="register:register",
        responses=answers(
            THROTTLED,
            {
                400: refused(
                    "The e-mail is taken (`REGISTER_USER_ALREADY_EXISTS`), looks like the "
                    "address of another account (`REGISTER_EMAIL_LOOKALIKE`), or the password "
                    "breaks the policy (`REGISTER_INVALID_PASSWORD` with every reason).",
                    ErrorCode.REGISTER_USER_ALREADY_EXISTS,
                    ErrorCode.REGISTER_EMAIL_LOOKALIKE,
                    reasons=(ErrorCode.REGISTER_INVALID_PASSWORD,),
                )
            },
            success={
                status.HTTP_202_ACCEPTED: {
                    "description": "With `USERKIT_PREVENT_ENUMERATION=true`: the same empty "
                    "answer for new and existing addresses (the owner of an existing one is "
                    "told by e-mail).",
                    "content": {"application/json": {"schema": {"type": "null"}}},
                }
            },
        ),
    )
    async def register(
        body: create_schema,  # type: ignore[valid-type]
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        values: dict[str, Any] = body.model_dump()  # type: ignore[attr-defined]
        refuse_privileged(values)
        with answering(Flow.REGISTER):
            user = await registration.register(uow, values, origin)
        if prevent_enumeration:
            return JSONResponse(None, status_code=status.HTTP_202_ACCEPTED)
        return user

    return router
