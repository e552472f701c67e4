"""Who is on the chain and with how much stake, as the DHT needs it: cheap, cached, refreshed.

A record is judged by its *owner's* stake, wherever it came from (replication, a lookup reply),
so every check asks a `StakeSource`. `ChainStakeSource` wraps any `ChainClient`-like object: it
reads the whole metagraph at once, serves lookups from memory, refreshes on a timer, and refreshes
early for an unknown hotkey at most once per `miss_refresh_s` (a flood of unknown owners cannot
turn into a flood of chain calls)."""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from asgiref.sync import sync_to_async

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StakeInfo:
    stake: int
    role: str


class StakeSource(Protocol):
    async def lookup(self, hotkey: str) -> StakeInfo | None:
        """The hotkey's stake and role, or None when it is not registered."""


class NeuronLike(Protocol):
    @property
    def hotkey(self) -> str: ...

    @property
    def stake(self) -> int: ...

    @property
    def role(self) -> str: ...


class NeuronsSource(Protocol):
    def neurons(self) -> Iterable[NeuronLike]: ...


class StaticStakeSource:
    """A fixed table, for swarms in one process and benchmarks."""

    def __init__(self, table: dict[str, StakeInfo] | None = None) -> None:
        self.table: dict[str, StakeInfo] = dict(table or {})

    async def lookup(self, hotkey: str) -> StakeInfo | None:
        return self.table.get(hotkey)


class ChainStakeSource:
    def __init__(
        self,
        chain: NeuronsSource | Callable[[], NeuronsSource],
        *,
        refresh_s: float = 60.0,
        miss_refresh_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._chain = chain
        self._refresh_s = refresh_s
        self._miss_refresh_s = miss_refresh_s
        self._clock = clock
        self._table: dict[str, StakeInfo] = {}
        self._loaded_at: float | None = None
        self._lock = asyncio.Lock()

    async def lookup(self, hotkey: str) -> StakeInfo | None:
        now = self._clock()
        if self._loaded_at is None or now - self._loaded_at >= self._refresh_s:
            await self.refresh()
        elif hotkey not in self._table and now - self._loaded_at >= self._miss_refresh_s:
            await self.refresh()
        return self._table.get(hotkey)

    async def refresh(self) -> None:
        started = self._clock()
        async with self._lock:
            if self._loaded_at is not None and self._loaded_at >= started:
                return  # someone refreshed while we waited: single flight
            try:
                table = await sync_to_async(self._read, thread_sensitive=True)()
            except Exception:
                # Keep serving the last good table: a chain outage must not unstake everyone.
                logger.exception("dht: stake refresh failed; keeping %d cached entries", len(self._table))
                self._loaded_at = self._clock()
                return
            self._table = table
            self._loaded_at = self._clock()

    def _read(self) -> dict[str, StakeInfo]:
        chain = self._chain() if callable(self._chain) else self._chain
        return {n.hotkey: StakeInfo(stake=int(n.stake), role=str(n.role)) for n in chain.neurons()}
