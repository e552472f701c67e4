"""Many nodes in one process on loopback, over the real UDP transport: the test and benchmark
harness (bench/dht_scale.py imports it from here). Each node has its own hotkey and socket; they
share one stake table and judge records by Meshwork's policy."""

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dht.engine.config import DhtConfig
from dht.engine.interfaces import PersistenceHook, StakeInfo
from dht.engine.node import DhtNode
from dht.engine.transport import Addr, LinkFilter
from dht.policy.namespaces import default_namespaces
from dht.policy.stake import StaticStakeSource
from dht.policy.validation import validator_chain
from protocol.keys import Hotkey, hotkey_create

LOOPBACK_CONFIG = DhtConfig(allowed_networks=("127.0.0.0/8",))


class ShiftedClock:
    """Wall-clock time plus an adjustable offset: lets a test move one node's clock forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def node_build(
    *,
    hotkey: Hotkey,
    stake: StaticStakeSource,
    config: DhtConfig = LOOPBACK_CONFIG,
    hook: PersistenceHook | None = None,
    link_filter: LinkFilter | None = None,
    clock: Callable[[], float] | None = None,
    catalogue_owner: str = "",
    netuid: int = 1,
) -> DhtNode:
    namespaces = default_namespaces(heartbeat_ttl_s=300.0, scores_ttl_s=7_200.0, min_validator_stake=1)
    validator = validator_chain(
        stake=stake, namespaces=namespaces, config=config, catalogue_owner=catalogue_owner, netuid=netuid
    )
    extra = {"clock": clock} if clock is not None else {}
    return DhtNode(
        hotkey=hotkey, config=config, stake=stake, validator=validator, hook=hook, link_filter=link_filter, **extra
    )


class Swarm:
    def __init__(
        self, *, config: DhtConfig = LOOPBACK_CONFIG, link_filter: LinkFilter | None = None, catalogue_owner: str = ""
    ) -> None:
        self.config = config
        self.catalogue_owner = catalogue_owner  # the subnet owner every node's catalogue check trusts
        self.link_filter = link_filter
        self.stake = StaticStakeSource()
        self.nodes: list[DhtNode] = []
        self.dead: list[DhtNode] = []

    def add_identity(self, role: str = "miner", stake: int = 100, crypto: str = "ed25519") -> Hotkey:
        hotkey, _ = hotkey_create(crypto)  # type: ignore[arg-type]
        self.stake.table[hotkey.ss58] = StakeInfo(stake=stake, role=role)
        return hotkey

    async def grow(self, count: int, *, concurrency: int = 20) -> None:
        """Start `count` nodes; the first one is the bootnode the others join through."""
        fresh: list[DhtNode] = []
        for _ in range(count):
            hotkey = self.add_identity()
            node = node_build(
                hotkey=hotkey,
                stake=self.stake,
                config=self.config,
                link_filter=self.link_filter,
                catalogue_owner=self.catalogue_owner,
            )
            await node.start("127.0.0.1", 0)
            fresh.append(node)
        self.nodes.extend(fresh)
        if not self.nodes:
            return
        boot = [self.nodes[0].addr]
        sem = asyncio.Semaphore(concurrency)

        async def join(node: DhtNode) -> None:
            async with sem:
                await node.bootstrap(boot)

        await asyncio.gather(*(join(n) for n in fresh if n is not self.nodes[0]))

    async def join(self, *, hotkey: Hotkey | None = None, **build: Any) -> DhtNode:
        """Start one more node (a fresh identity unless `hotkey` is given; `build` goes to
        node_build: a clock, a hook) and join it through the bootnode."""
        node = node_build(
            hotkey=hotkey or self.add_identity(),
            stake=self.stake,
            config=self.config,
            link_filter=self.link_filter,
            catalogue_owner=self.catalogue_owner,
            **build,
        )
        await node.start("127.0.0.1", 0)
        self.nodes.append(node)
        if len(self.nodes) > 1:
            await node.bootstrap([self.bootnode])
        return node

    @property
    def bootnode(self) -> Addr:
        return self.nodes[0].addr

    async def kill(self, fraction: float, *, rng: random.Random, spare: int = 1) -> list[DhtNode]:
        """Stop a random `fraction` of the nodes (never the first `spare`)."""
        pool = self.nodes[spare:]
        victims = rng.sample(pool, round(fraction * len(self.nodes)))
        for node in victims:
            await node.stop()
            self.nodes.remove(node)
            self.dead.append(node)
        return victims

    async def close(self) -> None:
        await asyncio.gather(*(n.stop() for n in self.nodes), return_exceptions=True)


def config_with(**changes: Any) -> DhtConfig:
    return replace(LOOPBACK_CONFIG, **changes)
