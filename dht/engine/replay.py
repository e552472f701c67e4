"""Bounded replay cache for signed datagrams.

A request is accepted only if its timestamp is within the skew window, so a nonce needs to be
remembered only for that window. When the cache is full of unexpired entries it fails closed
(the request is dropped) rather than forgetting nonces that could still be replayed."""

import time
from collections import OrderedDict
from collections.abc import Callable


class ReplayCache:
    def __init__(self, *, window_s: float, max_entries: int, clock: Callable[[], float] = time.time) -> None:
        self._window_s = window_s
        self._max = max_entries
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def _expire(self) -> None:
        horizon = self._clock() - 2 * self._window_s
        while self._seen:
            oldest_key, seen_at = next(iter(self._seen.items()))
            if seen_at >= horizon:
                break
            del self._seen[oldest_key]

    def seen(self, nonce_key: str) -> bool:
        self._expire()
        return nonce_key in self._seen

    def remember(self, nonce_key: str) -> bool:
        """Remember a verified nonce; False when the cache is full (the caller drops the request)."""
        self._expire()
        if len(self._seen) >= self._max:
            return False
        self._seen[nonce_key] = self._clock()
        return True

    def __len__(self) -> int:
        return len(self._seen)
