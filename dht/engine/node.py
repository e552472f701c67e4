"""DhtNode: one Kademlia node on one UDP socket (k = 20, α = 3 by default), and everything it does
with the network: join, look up, get, put, store, replicate, and its upkeep.

The node wires its parts together and owns its operations; each part gets only what it needs:
the inbound pipeline (engine/server.py), calls to peers (engine/peer_client.py), membership and
table upkeep (engine/contacts.py), record judging (engine/intake.py), lookups (engine/lookup.py).
Records are judged by the injected validator both when a peer asks us to store them and when a
lookup returns them. See engine/transport.py for why UDP."""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue

from dht.engine.config import DhtConfig
from dht.engine.contacts import Contacts
from dht.engine.droplog import DropLog
from dht.engine.ids import key_id, node_id
from dht.engine.intake import RecordIntake
from dht.engine.interfaces import PersistenceHook, RecordValidator, StakeSource
from dht.engine.lookup import LookupResult, Lookups
from dht.engine.loops import TaskSet, every
from dht.engine.peer_client import PeerClient
from dht.engine.ratelimit import TokenBuckets
from dht.engine.record_store import HELD, PutOutcome, RecordStore
from dht.engine.records import Record, record_sign
from dht.engine.routing import Peer, RoutingTable
from dht.engine.rpc import RpcClient, RpcError
from dht.engine.server import RequestServer
from dht.engine.transport import Addr, AddressPolicy, LinkFilter, UdpEndpoint
from dht.engine.wire import Op, StoreReply, store_batches
from protocol.keys import Hotkey

logger = logging.getLogger(__name__)


@dataclass
class Owned:
    """A record we keep alive: re-signed with a fresh expiry once a third of its TTL is left."""

    key: str
    value: JsonValue
    ttl_s: float
    expires: float = 0.0


class DhtNode:
    def __init__(
        self,
        *,
        hotkey: Hotkey,
        config: DhtConfig,
        stake: StakeSource,
        validator: RecordValidator,
        hook: PersistenceHook | None = None,
        link_filter: LinkFilter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hotkey = hotkey
        self.id = node_id(hotkey.ss58)
        self.config = config
        self.clock = clock
        self.hook = hook
        self.link_filter = link_filter
        self.routing = RoutingTable(own_id=self.id, k=config.k, failures_before_evict=config.failures_before_evict)
        self.store = RecordStore(
            max_records=config.max_records, max_subkeys_per_key=config.max_subkeys_per_key, listener=hook
        )
        self.drops = DropLog(node=hotkey.ss58)
        self.stats: Counter[str] = Counter()
        self.addresses = AddressPolicy(config.allowed_networks)
        self.addr: Addr = ("", 0)
        self.running = False
        self._tasks = TaskSet()
        self._endpoint = UdpEndpoint(self._on_datagram)
        rpc = RpcClient(
            hotkey=hotkey, send=self._send, max_bytes=config.max_datagram_bytes, max_skew_s=config.max_clock_skew_s
        )
        self.contacts = Contacts(config=config, routing=self.routing, stake=stake, rpc=rpc, tasks=self._tasks)
        self.intake = RecordIntake(
            store=self.store,
            validator=validator,
            owner_rate=TokenBuckets(rate_per_s=config.owner_writes_per_s, burst=config.owner_write_burst),
            drops=self.drops,
            clock=clock,
        )
        self.peers = PeerClient(
            config=config, rpc=rpc, routing=self.routing, contacts=self.contacts, drops=self.drops, stats=self.stats
        )
        self._lookups = Lookups(
            own=hotkey.ss58,
            config=config,
            routing=self.routing,
            peers=self.peers,
            addresses=self.addresses,
            intake=self.intake,
            drops=self.drops,
        )
        self._server = RequestServer(
            hotkey=hotkey,
            config=config,
            clock=clock,
            send=self._send,
            rpc=rpc,
            contacts=self.contacts,
            routing=self.routing,
            store=self.store,
            intake=self.intake,
            tasks=self._tasks,
            drops=self.drops,
            stats=self.stats,
        )

    # lifecycle -------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Addr:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self._endpoint, local_addr=(host, port))
        self._endpoint.connection_made(transport)  # the loop calls it later; we need the address now
        self.addr = self._endpoint.sockname
        self.running = True
        return self.addr

    async def stop(self) -> None:
        self.running = False
        await self._tasks.cancel_all()
        self._endpoint.close()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> "asyncio.Task[Any]":
        """Run a background task the node owns (cancelled on stop, never garbage-collected early)."""
        return self._tasks.spawn(coro)

    # datagrams -------------------------------------------------------------------------------
    def _send(self, data: bytes, addr: Addr) -> None:
        if not self.running or not self.addresses.allowed(*addr):
            return
        if self.link_filter is not None and not self.link_filter(self.addr, addr):
            return  # a simulated partition or loss: the datagram vanishes
        self._endpoint.send(data, addr)

    def _on_datagram(self, data: bytes, addr: Addr) -> None:
        if self.running:
            self._server.on_datagram(data, addr)

    # peers -----------------------------------------------------------------------------------
    async def call(self, addr: Addr, op: Op, body: dict[str, Any], *, to: str | None) -> Any:
        """One RPC; returns the parsed reply body. Failures count against the peer's table entry."""
        return await self.peers.call(addr, op, body, to=to)

    async def ping(self, addr: Addr, *, hotkey: str | None = None) -> str | None:
        """Ping an address; returns the hotkey that answered, or None."""
        return await self.peers.ping(addr, hotkey=hotkey)

    async def bootstrap(self, bootnodes: list[Addr], known: list[Peer] | None = None) -> int:
        """Join through bootnodes (hotkey unknown: a `to`-less ping) and previously known peers, then
        look up our own id so the peers nearest to us learn about us. Returns the table size."""
        self.contacts.bootnodes.update(a for a in bootnodes if a != self.addr)
        pings = [self.ping(a) for a in bootnodes if a != self.addr]
        pings += [self.ping(p.addr, hotkey=p.hotkey) for p in known or []]
        await asyncio.gather(*pings)
        if len(self.routing):
            await self.lookup(self.id)
            await self.fill_far_buckets()
        return len(self.routing)

    # lookups and records ---------------------------------------------------------------------
    async def lookup(self, target: int, *, budget: int | None = None) -> LookupResult:
        """FIND_NODE: the k closest live nodes to `target` (at most `budget` RPCs when given)."""
        return await self._lookups.run(target, budget=budget)

    async def lookup_value(self, key: str, *, quorum: int | None = None) -> LookupResult:
        """The latest valid record per subkey of `key`, from our own store and the network; holders
        that answered with an older version (or missed a subkey) are sent the latest one."""
        result = await self._lookups.run(key_id(key), key=key, quorum=quorum or self.config.get_quorum)
        now = self.clock()
        local = {r.subkey: r for r in self.store.records_of(key) if r.expires > now}
        for subkey, record in local.items():
            held = result.records.get(subkey)
            if held is None or record.supersedes(held):
                result.records[subkey] = record
        for peer, records in result.holders:
            stale = [r for s, r in result.records.items() if records.get(s) is None or r.supersedes(records[s])]
            if stale:
                self.spawn(self._store_on(peer, stale))
        return result

    async def get(self, key: str, *, quorum: int | None = None) -> dict[str, Record]:
        return (await self.lookup_value(key, quorum=quorum)).records

    async def put(self, key: str, value: JsonValue, *, ttl_s: float) -> tuple[Record, int]:
        """Sign `value` as ours under (key, our hotkey) and store it; returns the record and replicas."""
        record = record_sign(hotkey=self.hotkey, key=key, value=value, expires=self.clock() + ttl_s)
        return record, await self.store_records([record])

    async def store_records(self, records: list[Record]) -> int:
        """Store records of one key on the k closest live nodes (and here, when we are one of them).
        Returns the number of nodes that hold them."""
        if not records:
            return 0
        target = key_id(records[0].key)
        closest = (await self.lookup(target)).closest[: self.config.k]
        replicas = 0
        if len(closest) < self.config.k or (self.id ^ target) < (closest[-1].id ^ target):
            outcomes = [await self.accept_record(r, source="self") for r in records]
            replicas += all(o in HELD for o in outcomes)
        counts = await asyncio.gather(*(self._store_on(peer, records) for peer in closest))
        replicas += sum(1 for held in counts if held == len(records))
        return replicas

    async def _store_on(self, peer: Peer, records: list[Record]) -> int:
        """STORE a batch on one peer; returns how many it now holds (stored or already had)."""
        held = 0
        batches = store_batches(
            records, max_records=self.config.max_records_per_store, max_datagram_bytes=self.config.max_datagram_bytes
        )
        for batch in batches:
            try:
                reply: StoreReply = await self.call(
                    peer.addr, "store", {"records": [r.wire() for r in batch]}, to=peer.hotkey
                )
            except RpcError:
                return held
            held += sum(1 for outcome in reply.results if outcome in HELD)
        return held

    async def check_record(self, record: Record) -> str | None:
        """Run the validator; returns the rejection reason or None."""
        return await self.intake.check(record)

    async def accept_record(self, record: Record, *, source: object) -> str:
        """Validate and store a record a peer (or we) asked us to hold; returns the outcome."""
        return await self.intake.accept(record, source=source)

    async def restore(self, records: list[Record]) -> int:
        """Reload records held before a restart (re-validated: stake may have changed while we were
        down) without echoing them back to the persistence hook; returns how many were kept."""
        restored = 0
        for record in records:
            if await self.check_record(record) is None:
                restored += self.store.put(record, notify=False) is PutOutcome.STORED
        return restored

    # upkeep ----------------------------------------------------------------------------------
    async def replicate(self) -> int:
        """Re-store every unexpired record we hold on the current k closest (Kademlia's tReplicate):
        after churn or a healed partition, the latest version reaches every responsible node."""
        now = self.clock()
        by_key: dict[str, list[Record]] = {}
        for record in self.store.records():
            if record.expires > now + 1.0:
                by_key.setdefault(record.key, []).append(record)
        for records in by_key.values():
            try:
                await self.store_records(records)
            except Exception:
                logger.exception("dht: replicating %s failed", records[0].key)
        return len(by_key)

    async def refresh_buckets(self) -> int:
        """Look up a random id in every bucket no lookup passed through within the refresh interval,
        and probe the far buckets that are short of peers."""
        stale = self.routing.stale_buckets(self.config.refresh_interval_s)
        for index in stale:
            await self.lookup(self.routing.random_id_in_bucket(index))
        return len(stale) + await self.fill_far_buckets()

    async def fill_far_buckets(self, *, limit: int = 8) -> int:
        """Seed nearly empty far buckets with a few verified contacts each: a short lookup (α + 2
        RPCs) toward a random id in the bucket, whose responders enter the table. A contact or two
        per far bucket is all routing needs (every lookup then learns more); a full refresh per
        bucket would triple the cost of joining."""
        buckets = self.routing.far_buckets_to_fill()[:limit]
        for index in buckets:
            await self.lookup(self.routing.random_id_in_bucket(index), budget=self.config.alpha + 2)
        return len(buckets)

    async def republish(self, owned: dict[str, Owned]) -> int:
        now = self.clock()
        due = [o for o in owned.values() if o.expires - now < o.ttl_s / 3]
        for item in due:
            record, _ = await self.put(item.key, item.value, ttl_s=item.ttl_s)
            item.expires = record.expires
        return len(due)

    async def sweep(self) -> int:
        """Drop expired records from memory, then (with a hook) from durable storage too."""
        dropped = self.store.sweep(self.clock())
        if self.hook is not None:
            await self.hook.flush()
            await self.hook.sweep()
        return dropped

    async def persist(self) -> None:
        """Flush pending record changes and snapshot the routing table (with a hook)."""
        if self.hook is not None:
            await self.hook.flush()
            await self.hook.save_peers(self.routing.peers())

    async def _persist_loop(self, hook: PersistenceHook, *, flush_s: float, peers_s: float) -> None:
        since_peers = 0.0
        while True:
            await asyncio.sleep(flush_s)
            try:
                await hook.flush()
                since_peers += flush_s
                if since_peers >= peers_s:
                    since_peers = 0.0
                    await hook.save_peers(self.routing.peers())
            except Exception:
                logger.exception("dht: persisting state failed; will retry")

    def maintenance_start(
        self, *, owned: dict[str, Owned], flush_s: float = 0.5, peers_s: float = 60.0, republish_s: float = 5.0
    ) -> None:
        """Start the upkeep loops: bucket refresh, replication, expiry sweep, republishing `owned`,
        and with a hook the write-behind flush (the routing table is saved every `peers_s`)."""
        cfg = self.config
        self.spawn(every(cfg.refresh_interval_s / 2, self.refresh_buckets, name="bucket refresh"))
        self.spawn(every(cfg.replicate_interval_s, self.replicate, name="replication"))
        self.spawn(every(cfg.sweep_interval_s, self.sweep, name="sweep"))
        self.spawn(every(republish_s, lambda: self.republish(owned), name="republish"))
        if self.hook is not None:
            self.spawn(self._persist_loop(self.hook, flush_s=flush_s, peers_s=peers_s))
