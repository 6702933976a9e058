# --8<-- [start:app]
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, WebSocket

from fastapi_userkit import include_user_router
from fastapi_userkit.db.default import User  # the kit's model, or your own

app = FastAPI()
kit = include_user_router(app)
# --8<-- [end:app]

# --8<-- [start:orders]
ORDERS: dict[uuid.UUID, list[dict[str, str]]] = {}  # your own data


async def orders_of(user_id: uuid.UUID) -> list[dict[str, str]]:
    return ORDERS.get(user_id, [])


@app.get("/orders")
async def list_orders(user: kit.CurrentUser) -> list[dict[str, str]]:
    return await orders_of(user.id)


# --8<-- [end:orders]
# --8<-- [start:aliases]
@app.get("/feed")
async def feed(user: kit.OptionalUser) -> dict[str, str | None]:
    return {"user": user.email if user else None}


@app.post("/reports")
async def create_report(user: kit.Superuser) -> None: ...


# --8<-- [end:aliases]
# --8<-- [start:combine]
VerifiedSuperuser = Annotated[User, Depends(kit.current_user(verified=True, superuser=True))]


@app.delete("/projects/{project_id}")
async def delete_project(project_id: int, user: VerifiedSuperuser) -> None: ...


# --8<-- [end:combine]
# --8<-- [start:router]
admin = APIRouter(prefix="/admin", dependencies=[Depends(kit.current_user(superuser=True))])


@admin.get("/stats")
async def stats() -> dict[str, int]:
    return {"projects": 0}


app.include_router(admin)
# --8<-- [end:router]


# --8<-- [start:websocket]
@app.websocket("/ws")
async def chat(websocket: WebSocket, user: Annotated[User, Depends(kit.current_user_ws())]):
    await websocket.accept()
    await websocket.send_text(f"hello {user.email}")


# --8<-- [end:websocket]
