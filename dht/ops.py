"""What a node does with the network: bootstrap, get, store (to the k closest), put (sign + store),
replicate what it holds, read-repair stale replicas."""

import asyncio
import logging
from typing import TYPE_CHECKING

from pydantic import JsonValue

from dht.ids import key_id
from dht.lookup import LookupResult, iterative_lookup
from dht.maintenance import fill_far_buckets
from dht.records import Record, record_sign
from dht.routing import Peer
from dht.rpc import RpcError
from dht.transport import Addr
from dht.wire import StoreReply

if TYPE_CHECKING:
    from dht.node import DhtNode

logger = logging.getLogger(__name__)


async def dht_bootstrap(node: "DhtNode", *, bootnodes: list[Addr], known: list[Peer] | None = None) -> int:
    """Join through bootnodes (hotkey unknown: a `to`-less ping) and previously known peers, then
    look up our own id so the peers nearest to us learn about us. Returns the table size."""
    node.bootnodes.update(a for a in bootnodes if a != node.addr)
    pings = [node.ping(a) for a in bootnodes if a != node.addr]
    pings += [node.ping(p.addr, hotkey=p.hotkey) for p in known or []]
    await asyncio.gather(*pings)
    if len(node.routing):
        await iterative_lookup(node, node.id)
        await fill_far_buckets(node)
    return len(node.routing)


async def dht_get(node: "DhtNode", key: str, *, quorum: int | None = None) -> LookupResult:
    """The latest valid record per subkey of `key`, from our own store and the network."""
    quorum = quorum or node.config.get_quorum
    result = await iterative_lookup(node, key_id(key), key=key, quorum=quorum)
    now = node.clock()
    local = {r.subkey: r for r in node.store.records_of(key) if r.expires > now}
    for subkey, record in local.items():
        held = result.records.get(subkey)
        if held is None or record.supersedes(held):
            result.records[subkey] = record
    _read_repair(node, result)
    return result


def _read_repair(node: "DhtNode", result: LookupResult) -> None:
    """Holders that answered with an older version (or missed a subkey) get the latest one."""
    for peer, records in result.holders:
        stale = [r for s, r in result.records.items() if records.get(s) is None or r.supersedes(records[s])]
        if stale:
            node.spawn(_send_store(node, peer, stale))


async def _send_store(node: "DhtNode", peer: Peer, records: list[Record]) -> int:
    """STORE a batch on one peer; returns how many it now holds (stored or already had)."""
    held = 0
    step = node.config.max_records_per_store
    budget = node.config.max_datagram_bytes - 2_000
    batch: list[Record] = []
    size = 0
    chunks: list[list[Record]] = []
    for record in records:
        wire_size = record.value_size() + 600
        if batch and (len(batch) >= step or size + wire_size > budget):
            chunks.append(batch)
            batch, size = [], 0
        batch.append(record)
        size += wire_size
    if batch:
        chunks.append(batch)
    for chunk in chunks:
        try:
            reply: StoreReply = await node.call(
                peer.addr, "store", {"records": [r.wire() for r in chunk]}, to=peer.hotkey
            )
        except RpcError:
            return held
        held += sum(1 for outcome in reply.results if outcome in ("stored", "duplicate", "stale"))
    return held


async def dht_store(node: "DhtNode", records: list[Record]) -> int:
    """Store records of one key on the k closest live nodes (and here, when we are one of them).
    Returns the number of nodes that hold them."""
    if not records:
        return 0
    key = records[0].key
    target = key_id(key)
    result = await iterative_lookup(node, target)
    closest = result.closest[: node.config.k]
    replicas = 0
    if len(closest) < node.config.k or (node.id ^ target) < (closest[-1].id ^ target):
        outcomes = [await node.accept_record(r, source="self") for r in records]
        replicas += all(o in ("stored", "duplicate", "stale") for o in outcomes)
    counts = await asyncio.gather(*(_send_store(node, peer, records) for peer in closest))
    replicas += sum(1 for held in counts if held == len(records))
    return replicas


async def dht_put(node: "DhtNode", key: str, value: JsonValue, *, ttl_s: float) -> tuple[Record, int]:
    """Sign `value` as ours under (key, our hotkey) and store it; returns the record and replicas."""
    record = record_sign(hotkey=node.hotkey, key=key, value=value, expires=node.clock() + ttl_s)
    return record, await dht_store(node, [record])


async def dht_replicate(node: "DhtNode") -> int:
    """Re-store every unexpired record we hold on the current k closest (Kademlia's tReplicate):
    after churn or a healed partition, the latest version reaches every responsible node."""
    now = node.clock()
    by_key: dict[str, list[Record]] = {}
    for record in node.store.records():
        if record.expires > now + 1.0:
            by_key.setdefault(record.key, []).append(record)
    for records in by_key.values():
        try:
            await dht_store(node, records)
        except Exception:
            logger.exception("dht: replicating %s failed", records[0].key)
    return len(by_key)
