"""Discovery: fetch every validator's and miner's heartbeat from the DHT into Postgres, where the
validator's router reads them (dht.selectors.dht_live_nodes)."""

from chain.interface import Role
from dht.engine.node import DhtNode
from dht.policy.namespaces import heartbeat_key
from dht.services.heartbeats import dht_heartbeats_sync
from protocol.database import db_sync_to_async


async def heartbeats_discover(node: DhtNode, *, holder: str) -> int:
    """Sync the heartbeats the DHT holds now; returns the number of rows written."""
    written = 0
    for role in Role:
        records = await node.get(heartbeat_key(role))
        written += await db_sync_to_async(dht_heartbeats_sync)(holder=holder, records=list(records.values()))
    return written
