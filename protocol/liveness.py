"""The Celery worker's liveness: a heartbeat the worker writes to Redis every
CELERY_ALIVE_INTERVAL_S (config/celery.py starts it) and whose age `/readyz/` and
`manage.py celery_alive` (a Docker HEALTHCHECK) read. One key per node (REDIS_PREFIX): any of its
workers keeps it fresh."""

import threading
import time
from typing import cast

import redis
from django.conf import settings


class CeleryLiveness:
    def __init__(self, client: redis.Redis | None = None) -> None:
        timeout = settings.READYZ_CHECK_TIMEOUT_S
        self.client = client or redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.key = f"{settings.REDIS_PREFIX}:celery:alive"

    def beat(self) -> None:
        ttl_s = max(1, int(settings.CELERY_ALIVE_MAX_AGE_S * 2))
        self.client.set(self.key, repr(time.time()), ex=ttl_s)

    def last_beat_at(self) -> float | None:
        """The wall-clock time of the last heartbeat; None if there is none. Raises redis.RedisError."""
        raw = cast(bytes | None, self.client.get(self.key))  # a sync client: never an awaitable
        return None if raw is None else float(raw)

    def age_s(self) -> float | None:
        last = self.last_beat_at()
        return None if last is None else max(0.0, time.time() - last)


class LivenessBeater:
    """A daemon thread beating every CELERY_ALIVE_INTERVAL_S until stopped. A failed beat (Redis
    away) is skipped, not fatal: the probe sees the heartbeat go stale, which is the point."""

    def __init__(self, liveness: CeleryLiveness) -> None:
        self.liveness = liveness
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="meshwork-celery-alive", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.liveness.beat()
            except redis.RedisError:
                pass
            self._stop.wait(settings.CELERY_ALIVE_INTERVAL_S)
