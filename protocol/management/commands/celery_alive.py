from typing import Any

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from protocol.liveness import CeleryLiveness


class Command(BaseCommand):
    help = (
        "Exit 0 if this node's Celery worker wrote its heartbeat within CELERY_ALIVE_MAX_AGE_S, else 1 "
        "with the reason (a Docker HEALTHCHECK; docs/observability.md)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            age = CeleryLiveness().age_s()
        except redis.RedisError as exc:
            raise CommandError(f"celery liveness unknown: Redis {settings.REDIS_URL} unreachable: {exc}") from exc
        if age is None:
            raise CommandError("celery worker not alive: no heartbeat (is the worker running?)")
        if age > settings.CELERY_ALIVE_MAX_AGE_S:
            raise CommandError(f"celery worker not alive: last heartbeat {age:.0f}s ago")
        self.stdout.write(f"celery worker alive: last heartbeat {age:.1f}s ago")
