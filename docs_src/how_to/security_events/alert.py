import logging

from fastapi import FastAPI, Request

from fastapi_userkit import SecurityEvent, SecurityEventName, UserKitHooks, include_user_router

alerts = logging.getLogger("myapp.alerts")


async def alert_security_team(fields: dict[str, str | None]) -> None:
    # Your own code: page the on-call person, open an incident...
    alerts.critical("security alert: %s", fields)


class Hooks(UserKitHooks):
    async def on_security_event(self, event: SecurityEvent, request: Request | None = None) -> None:
        if event.event is SecurityEventName.REFRESH_TOKEN_REUSE:
            await alert_security_team(event.fields())


app = FastAPI()
kit = include_user_router(app, hooks=Hooks())
