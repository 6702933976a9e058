from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from fastapi_userkit import UserKitSettings, include_user_router

FRONTEND_ORIGIN = "http://localhost:5173"  # the page's origin: scheme, host and port

app = FastAPI()
app.add_middleware(
    CORSMiddleware,
    allow_origins=[FRONTEND_ORIGIN],  # explicit origins: "*" cannot carry cookies
    allow_credentials=True,  # the browser then sends and stores the cookies
    allow_methods=["GET", "POST", "PATCH", "DELETE"],  # the default allows GET only
    allow_headers=["Content-Type", "X-CSRF-Token"],
)
kit = include_user_router(
    app,
    settings=UserKitSettings(
        cookie_transport=True,
        cookie_secure=False,  # plain http in development only
        csrf_trusted_origins=[FRONTEND_ORIGIN],
    ),
)
