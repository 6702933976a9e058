from fastapi import FastAPI

from fastapi_userkit import include_user_router
from fastapi_userkit.contrib.offline_docs import serve_docs_offline

app = FastAPI(title="My shop")
kit = include_user_router(app)
serve_docs_offline(app)  # /docs and /redoc load their files from this app
