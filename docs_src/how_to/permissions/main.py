# --8<-- [start:app]
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Security

from fastapi_userkit import include_user_router

NOTES: dict[int, dict[str, Any]] = {}  # your own data: note id -> {"owner": ..., "text": ...}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The roles this app knows, defined in code: created, or brought up to date.
    await kit.roles.ensure("reader", ["notes:read"], description="Reads every note")
    await kit.roles.ensure(
        "editor", ["notes:read", "notes:write"], description="Writes their own notes"
    )
    await kit.roles.ensure(
        "moderator",
        ["notes:read", "notes:write", "notes:moderate"],
        description="Changes anyone's notes",
    )
    yield


app = FastAPI(lifespan=lifespan)
kit = include_user_router(
    app,
    scopes={
        "notes:read": "Read notes",
        "notes:write": "Write notes",
        "notes:moderate": "Change other people's notes",
    },
)
# --8<-- [end:app]


# --8<-- [start:scopes]
@app.get("/notes")
async def list_notes(
    user: Annotated[Any, Depends(kit.current_user(scopes=["notes:read"]))],
) -> list[dict[str, Any]]:
    return list(NOTES.values())


@app.post("/notes", status_code=201)
async def add_note(
    text: str,
    user: Annotated[Any, Security(kit.current_user(), scopes=["notes:write"])],
) -> dict[str, Any]:
    note = {"id": len(NOTES) + 1, "owner": str(user.id), "text": text}
    NOTES[note["id"]] = note
    return note


# --8<-- [end:scopes]
# --8<-- [start:policy]
async def owns_the_note(access: kit.Access, note_id: int) -> bool:  # type: ignore[name-defined]
    """Let the note's owner through, or a moderator."""
    note = NOTES.get(note_id)
    if note is None:
        raise HTTPException(status_code=404, detail="Note not found")
    return note["owner"] == str(access.user.id) or await access.allows("notes:moderate")


NoteEditor = Annotated[Any, Depends(kit.current_user(scopes=["notes:write"], policy=owns_the_note))]


@app.put("/notes/{note_id}")
async def edit_note(note_id: int, text: str, user: NoteEditor) -> dict[str, Any]:
    NOTES[note_id]["text"] = text
    return NOTES[note_id]


# --8<-- [end:policy]
