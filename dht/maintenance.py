"""Background upkeep of a running node: bucket refresh, replication of held records, republishing
our own records before they expire, and the expiry sweep (memory and Postgres)."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import JsonValue

from dht.lookup import iterative_lookup

if TYPE_CHECKING:
    from dht.node import DhtNode
    from dht.persistence import PostgresPersistence

logger = logging.getLogger(__name__)


@dataclass
class Owned:
    """A record we keep alive: re-signed with a fresh expiry once a third of its TTL is left."""

    key: str
    value: JsonValue
    ttl_s: float
    expires: float = 0.0


async def refresh_buckets(node: "DhtNode") -> int:
    """Look up a random id in every bucket no lookup passed through within the refresh interval,
    and probe the far buckets that are short of peers."""
    stale = node.routing.stale_buckets(node.config.refresh_interval_s)
    for index in stale:
        await iterative_lookup(node, node.routing.random_id_in_bucket(index))
    return len(stale) + await fill_far_buckets(node)


async def fill_far_buckets(node: "DhtNode", *, limit: int = 8) -> int:
    """Seed nearly empty far buckets with a few verified contacts each: a short lookup (α + 2 RPCs)
    toward a random id in the bucket, whose responders enter the table. A contact or two per far
    bucket is all routing needs (every lookup then learns more); a full refresh per bucket would
    triple the cost of joining."""
    buckets = node.routing.far_buckets_to_fill()[:limit]
    for index in buckets:
        target = node.routing.random_id_in_bucket(index)
        await iterative_lookup(node, target, budget=node.config.alpha + 2)
    return len(buckets)


async def republish_owned(node: "DhtNode", owned: dict[str, Owned]) -> int:
    now = node.clock()
    due = [o for o in owned.values() if o.expires - now < o.ttl_s / 3]
    for item in due:
        record, _ = await node.put(item.key, item.value, ttl_s=item.ttl_s)
        item.expires = record.expires
    return len(due)


async def sweep(node: "DhtNode", persistence: "PostgresPersistence | None") -> int:
    dropped = node.store.sweep(node.clock())
    if persistence is not None:
        await persistence.flush()
        await persistence.sweep()
    return dropped


async def _every(interval_s: float, job: Callable[[], Awaitable[object]], name: str) -> None:
    # Jitter spreads a swarm's (or a restarted network's) periodic work instead of synchronising it.
    await asyncio.sleep(random.uniform(0.1, 1.0) * interval_s)
    while True:
        try:
            await job()
        except Exception:
            logger.exception("dht: %s failed", name)
        await asyncio.sleep(interval_s * random.uniform(0.9, 1.1))


def maintenance_start(
    node: "DhtNode", *, owned: dict[str, Owned], persistence: "PostgresPersistence | None" = None
) -> None:
    cfg = node.config
    node.spawn(_every(cfg.refresh_interval_s / 2, lambda: refresh_buckets(node), "bucket refresh"))
    node.spawn(_every(cfg.replicate_interval_s, node.replicate, "replication"))
    node.spawn(_every(cfg.sweep_interval_s, lambda: sweep(node, persistence), "sweep"))
    node.spawn(_every(5.0, lambda: republish_owned(node, owned), "republish"))
