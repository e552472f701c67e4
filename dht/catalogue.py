"""The subnet's executor-class catalogue over the DHT (docs/catalogue.md).

The DHT process of every validator and miner runs `catalogue_exchange` every CATALOGUE_SYNC_S: the
owner's node puts its latest signed catalogue (and re-puts it before the record expires), and
every node fetches `catalogue:<netuid>` and mirrors the records it verified into its Postgres. The
Celery beat task `catalogue_sync` (every role) then verifies the mirrored envelopes once more
against SUBNET_OWNER_HOTKEY and applies the newest to the class table. On the owner the table is
the source: the task publishes edits made outside the admin instead."""

import logging
import time
from dataclasses import dataclass

from dht.engine.node import DhtNode
from dht.policy.namespaces import catalogue_key
from dht.selectors import dht_records_of
from dht.services.records import dht_records_save
from executor.selectors import catalogue_is_owner, catalogue_state_get
from executor.services.catalogue import catalogue_apply, catalogue_publish_if_changed
from protocol.catalogue import CatalogueError, SignedCatalogue, catalogue_verify
from protocol.database import db_sync_to_async

logger = logging.getLogger(__name__)


@dataclass
class CatalogueRound:
    """What the owner's node last put: a new digest, or a third of the TTL left, puts it again."""

    ttl_s: float
    digest: str = ""
    expires: float = 0.0


async def catalogue_put(node: DhtNode, *, envelope: SignedCatalogue, ttl_s: float) -> int:
    """Store the owner's signed catalogue under catalogue:<netuid>; returns the replica count."""
    key = catalogue_key(envelope.catalogue.netuid)
    _, replicas = await node.put(key, envelope.model_dump(mode="json"), ttl_s=ttl_s)
    return replicas


async def catalogue_fetch(node: DhtNode, *, holder: str, netuid: int) -> int:
    """Mirror the catalogue records the DHT returns (each passed this node's record checks, owner
    and version included) into Postgres for `catalogue_sync`; returns how many."""
    records = list((await node.get(catalogue_key(netuid))).values())
    if records:
        await db_sync_to_async(dht_records_save)(holder=holder, records=records, dropped=[])
    return len(records)


async def catalogue_exchange(node: DhtNode, *, holder: str, netuid: int, published: CatalogueRound) -> int:
    """One round of the DHT process: the owner puts what it published, then every node fetches."""
    if await db_sync_to_async(catalogue_is_owner)():
        state = await db_sync_to_async(catalogue_state_get)()
        due = state.digest != published.digest or published.expires - time.time() < published.ttl_s / 3
        if state.envelope is not None and due:
            await catalogue_put(node, envelope=SignedCatalogue.model_validate(state.envelope), ttl_s=published.ttl_s)
            published.digest, published.expires = state.digest, time.time() + published.ttl_s
    return await catalogue_fetch(node, holder=holder, netuid=netuid)


def catalogue_sync(*, holder: str, owner: str, netuid: int) -> int | None:
    """Apply the newest catalogue this node mirrored, if it verifies and is newer than the applied
    one; returns the version applied, or None. The owner publishes table edits instead."""
    if catalogue_is_owner():
        envelope = catalogue_publish_if_changed()
        return None if envelope is None else envelope.catalogue.version
    best: tuple[int, SignedCatalogue] | None = None
    for record in dht_records_of(holder=holder, key=catalogue_key(netuid), now=time.time()):
        try:
            catalogue = catalogue_verify(envelope=record.value, owner_ss58=owner, netuid=netuid)
        except CatalogueError as exc:
            logger.warning("catalogue: ignoring a record from %s: %s", record.owner, exc)
            continue
        if best is None or catalogue.version > best[0]:
            best = (catalogue.version, SignedCatalogue.model_validate(record.value))
    if best is None or best[0] <= catalogue_state_get().version:
        return None
    changed = catalogue_apply(best[1].catalogue, envelope=best[1])
    logger.info("catalogue: applied version %d (%d classes changed)", best[0], changed)
    return best[0]
