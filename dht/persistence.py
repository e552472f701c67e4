"""Write-behind persistence of a node's records and routing table to Postgres: the engine's
PersistenceHook (dht.engine.interfaces), implemented with this app's services and selectors.

The in-memory store stays the hot path; changes are queued (deduplicated per slot) and flushed in
batches by one task through a single DB thread, so a burst of STOREs costs one transaction."""

from dht.engine.records import Record
from dht.engine.routing import Peer
from dht.selectors import dht_known_peers, dht_stored_records
from dht.services.peers import dht_peers_replace
from dht.services.records import dht_records_save, dht_records_sweep
from protocol.database import db_sync_to_async


class PostgresPersistence:
    def __init__(self, *, holder: str) -> None:
        self.holder = holder
        self._upserts: dict[tuple[str, str], Record] = {}
        self._dropped: set[tuple[str, str]] = set()

    # the record store's listener: queue, never block the loop
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
            await db_sync_to_async(dht_records_save)(holder=self.holder, records=records, dropped=dropped)

    async def sweep(self) -> int:
        return await db_sync_to_async(dht_records_sweep)(holder=self.holder)

    async def save_peers(self, peers: list[Peer]) -> None:
        await db_sync_to_async(dht_peers_replace)(holder=self.holder, peers=peers)

    # what a restarted node reloads (DhtNode.restore re-validates the records)
    async def stored_records(self, *, now: float) -> list[Record]:
        return await db_sync_to_async(dht_stored_records)(holder=self.holder, now=now)

    async def known_peers(self) -> list[Peer]:
        return await db_sync_to_async(dht_known_peers)(holder=self.holder)
