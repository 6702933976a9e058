from redis.asyncio import RedisCluster
from redis.asyncio.sentinel import Sentinel

from fastapi_userkit.contrib.redis import RedisSessionStore
from fastapi_userkit.contrib.redis_ratelimit import RedisRateLimiter

# Sentinel: the master it names, found again after each failover
sentinel = Sentinel([("sentinel-1", 26379), ("sentinel-2", 26379)], socket_timeout=5)
master = sentinel.master_for("mymaster", socket_timeout=5, ssl=True)
store = RedisSessionStore(client=master, prefix="myapp:")

# Cluster: the store sees a RedisCluster and uses the Cluster key layout
cluster = RedisCluster(host="redis-1", port=6379, ssl=True, socket_timeout=5)
limiter = RedisRateLimiter(client=cluster, prefix="myapp:rl:")
