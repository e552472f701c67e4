"""Heartbeats: every validator and miner publishes a signed `heartbeat:<role>` record (state,
version, addresses, manifest digest, RTTs to a few peers) and marks itself OFFLINE on shutdown."""

import logging
import random
import time
from collections.abc import Callable

from chain.interface import Role
from dht.engine.node import DhtNode
from dht.policy.namespaces import heartbeat_key
from dht.policy.values import HeartbeatValue, NodeState
from protocol.database import db_sync_to_async

logger = logging.getLogger(__name__)
RTT_PEERS = 5
RTT_EMA = 0.3


class HeartbeatPublisher:
    def __init__(
        self,
        node: DhtNode,
        *,
        role: Role,
        version: str,
        addresses: list[str],
        manifest: Callable[[], str],
        ttl_s: float,
    ) -> None:
        self.node = node
        self.role = role
        self.version = version
        self.addresses = addresses
        self.manifest = manifest
        self.ttl_s = ttl_s
        self.rtts_ms: dict[str, float] = {}

    async def value(self, state: NodeState) -> HeartbeatValue:
        try:
            # Providers may read the database (the miner's executor slots): keep them off the loop.
            digest = await db_sync_to_async(self.manifest)()
        except Exception:
            logger.exception("dht: manifest provider failed; publishing an empty digest")
            digest = ""
        return HeartbeatValue(
            role=self.role,
            state=state,
            version=self.version,
            addresses=self.addresses,
            dht_address=f"{self.node.addr[0]}:{self.node.addr[1]}",
            manifest_digest=digest,
            rtts_ms=dict(list(self.rtts_ms.items())[:RTT_PEERS]),
            published_at=time.time(),
        )

    async def publish(self, state: NodeState) -> int:
        value = (await self.value(state)).model_dump(mode="json")
        _, replicas = await self.node.put(heartbeat_key(self.role), value, ttl_s=self.ttl_s)
        return replicas

    async def measure_rtts(self) -> None:
        peers = self.node.routing.peers()
        sample = random.sample(peers, min(RTT_PEERS, len(peers)))
        fresh: dict[str, float] = {}
        for peer in sample:
            started = time.monotonic()
            if await self.node.ping(peer.addr, hotkey=peer.hotkey) is None:
                continue
            rtt = (time.monotonic() - started) * 1000
            old = self.rtts_ms.get(peer.hotkey)
            fresh[peer.hotkey] = round(rtt if old is None else (1 - RTT_EMA) * old + RTT_EMA * rtt, 3)
        self.rtts_ms = fresh
