"""When to try a request again, and how long to wait first.

Retried: a connection that never opened (refused, DNS, connect timeout: nothing was sent), and a
429 (the facilitator's throttle refuses before any view runs), for every request; a 5xx, a read
timeout or a dropped connection only for requests that are safe to repeat (GETs). Waits are
exponential backoff with full jitter (a uniform draw in [0, min(cap, base · 2^attempt)]), or the
server's `Retry-After` when it sends one; bounded by `max_attempts` and by `max_retry_after` (a
server that asks for a longer wait gets an error, not a hung client)."""

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    max_retry_after_s: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def backoff_s(self, attempt: int) -> float:
        """Full jitter after the `attempt`-th failure (0-based)."""
        return self.jitter() * min(self.max_delay_s, self.base_delay_s * 2.0**attempt)

    def delay_s(self, attempt: int, retry_after_s: float | None) -> float | None:
        """How long to wait before the next attempt, or None to give up now."""
        if attempt + 1 >= self.max_attempts:
            return None
        if retry_after_s is None:
            return self.backoff_s(attempt)
        if retry_after_s > self.max_retry_after_s:
            return None
        return max(retry_after_s, self.backoff_s(attempt))


NO_RETRY = RetryPolicy(max_attempts=1)


def retry_after_s(value: str | None, *, now: datetime | None = None) -> float | None:
    """`Retry-After` in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
