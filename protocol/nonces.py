"""Seen-nonce store in Redis, so replay protection holds across worker processes of one node."""

from django.conf import settings
from redis import Redis as SyncRedis
from redis.asyncio import Redis


class RedisNonceStore:
    def __init__(self, *, url: str | None = None, prefix: str | None = None) -> None:
        self._redis = Redis.from_url(url or settings.REDIS_URL)
        self._prefix = prefix or f"{settings.REDIS_PREFIX}:nonce:"

    async def remember(self, key: str, ttl_s: float) -> bool:
        fresh = await self._redis.set(self._prefix + key, b"1", nx=True, px=max(1, int(ttl_s * 1000)))
        return bool(fresh)

    async def close(self) -> None:
        await self._redis.aclose()


class SyncRedisNonceStore:
    """The same store for sync code (Django views answering signed HTTP requests)."""

    def __init__(self, *, url: str | None = None, prefix: str | None = None) -> None:
        self._redis = SyncRedis.from_url(url or settings.REDIS_URL)
        self._prefix = prefix or f"{settings.REDIS_PREFIX}:nonce:"

    def remember(self, key: str, ttl_s: float) -> bool:
        return bool(self._redis.set(self._prefix + key, b"1", nx=True, px=max(1, int(ttl_s * 1000))))
