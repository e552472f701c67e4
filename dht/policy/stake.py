"""Who is registered and with how much stake, as the DHT needs it: cheap, cached, refreshed.

A record is judged by its *owner's* stake, wherever it came from (replication, a lookup reply), so
every check asks a StakeSource (dht.engine.interfaces). `CachedStakeSource` reads the whole table
at once through `read`, serves lookups from memory, refreshes on a timer, and refreshes early for
an unknown hotkey at most once per `miss_refresh_s` (a flood of unknown owners cannot turn into a
flood of reads). Where the table comes from (the chain) is the glue's business: dht/stake.py."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from dht.engine.interfaces import StakeInfo

logger = logging.getLogger(__name__)
StakeTable = dict[str, StakeInfo]


class StaticStakeSource:
    """A fixed table, for swarms in one process and benchmarks."""

    def __init__(self, table: StakeTable | None = None) -> None:
        self.table: StakeTable = dict(table or {})

    async def lookup(self, hotkey: str) -> StakeInfo | None:
        return self.table.get(hotkey)


class CachedStakeSource:
    def __init__(
        self,
        read: Callable[[], Awaitable[StakeTable]],
        *,
        refresh_s: float = 60.0,
        miss_refresh_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._refresh_s = refresh_s
        self._miss_refresh_s = miss_refresh_s
        self._clock = clock
        self._table: StakeTable = {}
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
                table = await self._read()
            except Exception:
                # Keep serving the last good table: a chain outage must not unstake everyone.
                logger.exception("dht: stake refresh failed; keeping %d cached entries", len(self._table))
                self._loaded_at = self._clock()
                return
            self._table = table
            self._loaded_at = self._clock()
