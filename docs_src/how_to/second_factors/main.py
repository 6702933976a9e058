# --8<-- [start:app]
from typing import Annotated, Any

from fastapi import Depends, FastAPI

from fastapi_userkit import UserKitSettings, include_user_router

app = FastAPI(title="Acme")  # authenticator apps show the title beside the account
kit = include_user_router(app, settings=UserKitSettings(mfa_enabled=True))
# --8<-- [end:app]


# --8<-- [start:fresh]
@app.post("/payouts")
async def send_payout(
    amount: int,
    user: Annotated[Any, Depends(kit.current_user(fresh=True))],
) -> dict[str, Any]:
    """Only for a user who proved who they are in the last 5 minutes."""
    return {"to": user.email, "amount": amount}


# --8<-- [end:fresh]
