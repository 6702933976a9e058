"""A host app with second factors on, and a page that loads the guide's passkey
functions (docs_src/frontend/passkeys.js): the browser test calls them."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from fastapi_userkit import include_user_router

FRONTEND = Path(__file__).resolve().parents[3] / "docs_src" / "frontend"
PAGE = Path(__file__).with_name("passkeys.html")

app = FastAPI(title="Passkeys")
kit = include_user_router(app)  # USERKIT_MFA_ENABLED=true comes from the environment
app.mount("/js", StaticFiles(directory=FRONTEND), name="js")


@app.get("/passkeys.html", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(PAGE)
