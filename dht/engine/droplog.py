"""Dropped input is counted per reason and logged, but the log is rate-limited per reason: a flood
of garbage must not turn into a flood of log lines (that would be the cheapest attack of all)."""

import logging
import time
from collections import Counter

logger = logging.getLogger(__name__)


class DropLog:
    def __init__(self, *, node: str, every_s: float = 10.0) -> None:
        self.counts: Counter[str] = Counter()
        self._node = node
        self._every_s = every_s
        self._last_logged: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()

    def drop(self, reason: str, source: object = None) -> None:
        self.counts[reason] += 1
        now = time.monotonic()
        if now - self._last_logged.get(reason, -self._every_s) < self._every_s:
            self._suppressed[reason] += 1
            return
        self._last_logged[reason] = now
        extra = self._suppressed.pop(reason, 0)
        more = f" (+{extra} more since last logged)" if extra else ""
        logger.warning("dht %s: dropped %s from %s%s", self._node[:10], reason, source, more)
