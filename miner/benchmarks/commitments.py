"""Matmul results kept in memory between the commitment and the opening: bounded in count and
bytes (MINER_BENCH_MAX_COMMITS, MINER_BENCH_MAX_COMMIT_BYTES; the oldest go first) and expiring
after MINER_BENCH_COMMIT_TTL_S. Keyed by validator too, so nobody opens another's commitment."""

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.conf import settings
from numpy.typing import NDArray

Key = tuple[str, UUID]


@dataclass
class Commitment:
    matrix: NDArray[Any]
    levels: list[list[bytes]]
    expires_at: float = field(default_factory=lambda: time.monotonic() + settings.MINER_BENCH_COMMIT_TTL_S)

    @property
    def nbytes(self) -> int:
        return int(self.matrix.nbytes) + sum(len(level) for level in self.levels) * 32


class Commitments:
    def __init__(self) -> None:
        self._items: OrderedDict[Key, Commitment] = OrderedDict()

    def __len__(self) -> int:
        self._expire()
        return len(self._items)

    def nbytes(self) -> int:
        return sum(c.nbytes for c in self._items.values())

    def put(self, key: Key, commitment: Commitment) -> bool:
        """False when it alone exceeds the byte bound (then nothing is kept)."""
        self._expire()
        limit = settings.MINER_BENCH_MAX_COMMIT_BYTES
        if commitment.nbytes > limit:
            return False
        self._items.pop(key, None)
        while self._items and (
            len(self._items) >= settings.MINER_BENCH_MAX_COMMITS or self.nbytes() + commitment.nbytes > limit
        ):
            self._items.popitem(last=False)
        self._items[key] = commitment
        return True

    def take(self, key: Key) -> Commitment | None:
        """Removes and returns it: a commitment is opened once."""
        self._expire()
        return self._items.pop(key, None)

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, c in self._items.items() if c.expires_at <= now]:
            del self._items[key]


# One per process: a validator that reconnects between commitment and opening still finds it.
COMMITMENTS = Commitments()
