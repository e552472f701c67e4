"""Write-behind persistence of a node's records and routing table to Postgres.

The in-memory store stays the hot path; changes are queued (deduplicated per slot) and flushed in
batches by one task through a single DB thread, so a burst of STOREs costs one transaction."""

import asyncio
import logging
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async

from dht.records import Record
from dht.routing import Peer
from dht.selectors import dht_known_peers, dht_stored_records
from dht.services.peers import dht_peers_replace
from dht.services.records import dht_records_save, dht_records_sweep
from dht.storage import PutOutcome

if TYPE_CHECKING:
    from dht.node import DhtNode

logger = logging.getLogger(__name__)


class PostgresPersistence:
    def __init__(self, *, holder: str) -> None:
        self.holder = holder
        self._upserts: dict[tuple[str, str], Record] = {}
        self._dropped: set[tuple[str, str]] = set()

    # StoreListener
    def record_stored(self, record: Record) -> None:
        self._upserts[(record.key, record.subkey)] = record
        self._dropped.discard((record.key, record.subkey))

    def records_dropped(self, keys: list[tuple[str, str]]) -> None:
        for slot in keys:
            self._upserts.pop(slot, None)
            self._dropped.add(slot)

    async def flush(self) -> None:
        records, dropped = list(self._upserts.values()), list(self._dropped)
        self._upserts, self._dropped = {}, set()
        if records or dropped:
            await sync_to_async(dht_records_save, thread_sensitive=True)(
                holder=self.holder, records=records, dropped=dropped
            )

    async def sweep(self) -> int:
        return await sync_to_async(dht_records_sweep, thread_sensitive=True)(holder=self.holder)

    async def save_peers(self, node: "DhtNode") -> None:
        await sync_to_async(dht_peers_replace, thread_sensitive=True)(holder=self.holder, peers=node.routing.peers())

    async def restore(self, node: "DhtNode") -> int:
        """Reload held records (re-validated: stake may have changed while we were down)."""
        records = await sync_to_async(dht_stored_records, thread_sensitive=True)(holder=self.holder, now=node.clock())
        restored = 0
        for record in records:
            if await node.check_record(record) is None:
                restored += node.store.put(record, notify=False) is PutOutcome.STORED
        return restored

    async def known_peers(self) -> list[Peer]:
        return await sync_to_async(dht_known_peers, thread_sensitive=True)(holder=self.holder)

    async def run(self, node: "DhtNode", *, flush_s: float = 0.5, peers_s: float = 60.0) -> None:
        """Flush loop; the routing table is saved every `peers_s`."""
        since_peers = 0.0
        while True:
            await asyncio.sleep(flush_s)
            try:
                await self.flush()
                since_peers += flush_s
                if since_peers >= peers_s:
                    since_peers = 0.0
                    await self.save_peers(node)
            except Exception:
                logger.exception("dht: persisting state failed; will retry")
