"""In-process limits on one connection's inbound frames: a token bucket (rate + burst) and a
strike counter over a sliding window. No I/O, so a guard costs nothing per frame."""

import time
from collections import deque
from collections.abc import Callable

from django.conf import settings


class TokenBucket:
    def __init__(self, *, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()

    def take(self) -> float:
        """Take one token: 0.0 if there was one, else the seconds until there will be."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self.rate if self.rate > 0 else float("inf")


class Strikes:
    """More than `limit` strikes within `window_s` seconds means the peer misbehaves on purpose."""

    def __init__(self, *, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._at: deque[float] = deque()

    def add(self) -> bool:
        """Count one strike; True once the limit is reached within the window."""
        now = self._clock()
        self._at.append(now)
        while self._at and self._at[0] <= now - self.window_s:
            self._at.popleft()
        return len(self._at) >= self.limit


class InboundGuard:
    """For a dialing client reading a peer's frames: returns a reason to drop the link when the
    peer floods (over the rate after its burst) or keeps sending unreadable frames."""

    def __init__(self, *, rate_per_s: float, burst: int, strikes: int, window_s: float) -> None:
        self._bucket = TokenBucket(rate_per_s=rate_per_s, burst=burst)
        self._strikes = Strikes(limit=strikes, window_s=window_s)

    def frame(self) -> str | None:
        if self._bucket.take() > 0:
            return f"flooding: over {self._bucket.rate:g} frames/s after a burst of {self._bucket.burst:g}"
        return None

    def bad_frame(self, detail: str) -> str | None:
        if self._strikes.add():
            return f"{self._strikes.limit} bad frames within {self._strikes.window_s:g} s, the last: {detail[:200]}"
        return None


def inbound_guard() -> InboundGuard:
    """A guard with the node's websocket limits (PROTOCOL_RATE_*, PROTOCOL_BAN_*)."""
    return InboundGuard(
        rate_per_s=settings.PROTOCOL_RATE_PER_S,
        burst=settings.PROTOCOL_RATE_BURST,
        strikes=settings.PROTOCOL_BAN_STRIKES,
        window_s=settings.PROTOCOL_BAN_WINDOW_S,
    )
