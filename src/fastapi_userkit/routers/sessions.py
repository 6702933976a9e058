"""`GET /auth/sessions` and `DELETE /auth/sessions/{id}`: the caller's own sessions."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, error_response, http_error
from fastapi_userkit.hooks import run_after_hook
from fastapi_userkit.login import Authentication
from fastapi_userkit.schemas import SessionRead
from fastapi_userkit.sessions import is_session_id

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit


def create_sessions_router(kit: "UserKit[Any]") -> APIRouter:
    """Build the router listing and ending the caller's login sessions."""
    router = APIRouter(route_class=kit.route_class)

    @router.get("/sessions", name="auth:sessions")
    async def list_sessions(
        auth: Annotated[Authentication, Depends(kit.authenticated)],
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> list[SessionRead]:
        sessions = await kit.session_store.bind(uow).list_active(
            str(auth.user.id), datetime.now(UTC)
        )
        return [
            SessionRead.model_validate(s).model_copy(update={"current": s.id == auth.session.id})
            for s in sessions
        ]

    @router.delete(
        "/sessions/{session_id}",
        status_code=status.HTTP_204_NO_CONTENT,
        name="auth:delete_session",
        responses={
            status.HTTP_404_NOT_FOUND: error_response(
                ErrorCode.SESSION_NOT_FOUND, "No live session of yours has this id."
            )
        },
    )
    async def delete_session(
        session_id: str,
        request: Request,
        auth: Annotated[Authentication, Depends(kit.authenticated)],
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> None:
        store = kit.session_store.bind(uow)
        target = await store.get(session_id) if is_session_id(session_id) else None
        if (
            target is None
            or target.user_id != str(auth.user.id)
            or not target.is_active(datetime.now(UTC))
        ):
            raise http_error(status.HTTP_404_NOT_FOUND, ErrorCode.SESSION_NOT_FOUND)
        await store.revoke(target.id)
        await uow.commit()
        await run_after_hook("on_after_logout", kit.hooks.on_after_logout(auth.user, request))

    return router
