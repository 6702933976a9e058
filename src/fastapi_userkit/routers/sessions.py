"""`GET /auth/sessions` and `DELETE /auth/sessions/{id}`: the caller's own sessions."""

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.routing import APIRoute

from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.login_sessions import Authentication, LoginSessions
from fastapi_userkit._http.dependencies import LOGGED_IN, Dependencies
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, Flow, answering, refused
from fastapi_userkit.routers._common import answers
from fastapi_userkit.schemas import SessionRead


def create_sessions_router(
    sessions: LoginSessions, deps: Dependencies, route_class: type[APIRoute]
) -> APIRouter:
    """Build the router listing and ending the caller's login sessions."""
    router = APIRouter(route_class=route_class)

    @router.get(
        "/sessions", name="auth:sessions", responses=answers(deps.refusals(LOGGED_IN, {"GET"}))
    )
    async def list_sessions(
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
    ) -> list[SessionRead]:
        return [
            SessionRead.model_validate(session).model_copy(update={"current": current})
            for session, current in await sessions.list(uow, auth)
        ]

    @router.delete(
        "/sessions/{session_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        name="auth:delete_session",
        responses=answers(
            deps.refusals(LOGGED_IN, {"DELETE"}),
            {404: refused("No live session of yours has this id.", ErrorCode.SESSION_NOT_FOUND)},
        ),
    )
    async def delete_session(
        session_id: str,
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.ACCOUNT):
            await sessions.end_one(uow, auth, session_id, origin)

    return router
