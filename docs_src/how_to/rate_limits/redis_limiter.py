from fastapi import FastAPI

from fastapi_userkit import include_user_router
from fastapi_userkit.contrib.redis_ratelimit import RedisRateLimiter

app = FastAPI()
limiter = RedisRateLimiter("redis://redis.internal:6379/0", prefix="myapp:rl:")
kit = include_user_router(app, rate_limiter=limiter)
