"""One node's DHT process (`manage.py dht`): wires the engine to settings, the chain, the Meshwork
record policy and Postgres, runs its loops, and on stop publishes OFFLINE and saves its state."""

import asyncio
import logging
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings

from chain.client import chain_client
from chain.interface import Role
from chain.selectors import ChainNeurons
from dht.bootnodes import chain_bootnodes, resolve
from dht.catalogue import CatalogueRound, catalogue_exchange
from dht.commit_reveal import commit_reveal_loop
from dht.config import dht_config_from_settings
from dht.discovery import heartbeats_discover
from dht.engine.interfaces import PersistenceHook
from dht.engine.loops import every
from dht.engine.node import DhtNode
from dht.engine.transport import Addr
from dht.heartbeat import HeartbeatPublisher
from dht.persistence import PostgresPersistence
from dht.policy.namespaces import default_namespaces
from dht.policy.scores import EpochSchedule
from dht.policy.validation import validator_chain
from dht.policy.values import NodeState
from dht.providers import manifest_provider_from_settings, scores_provider_from_settings
from dht.stake import chain_stake_source
from protocol.database import db_sync_to_async
from protocol.keys import Hotkey
from protocol.version import NODE_VERSION

logger = logging.getLogger(__name__)


@dataclass
class RunOptions:
    host: str
    port: int
    role: Role | None = None  # None for a bootnode
    addresses: list[str] = field(default_factory=list)
    bootnode: bool = False


def _block_seconds() -> float:
    return chain_client().block_seconds()


def dht_node_from_settings(hotkey: Hotkey, *, block_s: float, hook: PersistenceHook | None = None) -> DhtNode:
    """A DhtNode configured from settings, judging records by Meshwork's policy against chain
    stake; `block_s` is the chain's block time (epochs bound how long score records live)."""
    config = dht_config_from_settings()
    stake = chain_stake_source(
        ChainNeurons(), refresh_s=settings.DHT_STAKE_REFRESH_S, miss_refresh_s=settings.DHT_STAKE_MISS_REFRESH_S
    )
    epoch_s = settings.DHT_EPOCH_BLOCKS * block_s
    namespaces = default_namespaces(
        heartbeat_ttl_s=settings.DHT_HEARTBEAT_MAX_TTL_S,
        scores_ttl_s=3 * epoch_s,
        min_validator_stake=settings.MIN_VALIDATOR_STAKE,
        catalogue_ttl_s=settings.CATALOGUE_RECORD_TTL_S,
    )
    validator = validator_chain(
        stake=stake,
        namespaces=namespaces,
        config=config,
        catalogue_owner=settings.SUBNET_OWNER_HOTKEY,
        netuid=settings.CHAIN_NETUID,
    )
    return DhtNode(hotkey=hotkey, config=config, stake=stake, validator=validator, hook=hook)


async def dht_run(*, hotkey: Hotkey, options: RunOptions, stop: asyncio.Event) -> None:
    # A chain backend may read its database or the network for this: keep it off the loop.
    block_s = await db_sync_to_async(_block_seconds)()
    persistence = PostgresPersistence(holder=hotkey.ss58)
    node = dht_node_from_settings(hotkey, block_s=block_s, hook=persistence)
    await node.start(options.host, options.port)
    restored = await node.restore(await persistence.stored_records(now=node.clock()))
    chain_entries = await db_sync_to_async(chain_bootnodes)(ChainNeurons(), port_offset=settings.DHT_CHAIN_PORT_OFFSET)
    boot = [a for a in await resolve([*settings.DHT_BOOTNODES, *chain_entries]) if a != node.addr]
    size = await node.bootstrap(boot, known=await persistence.known_peers())
    if not boot and not options.bootnode:
        logger.warning(
            "dht: no bootnodes to join through: set DHT_BOOTNODES=host:port (or DHT_CHAIN_PORT_OFFSET for "
            "bootnodes from the chain); until then this node only knows peers it stored before"
        )
    logger.info(
        "dht: %s listening on %s:%d (%s), %d records restored, %d peers",
        hotkey.ss58,
        *node.addr,
        "bootnode" if options.bootnode else options.role,
        restored,
        size,
    )
    node.maintenance_start(owned={})
    interval_s = settings.DHT_HEARTBEAT_INTERVAL_S
    # A join can fail (bootnode not answering yet, a lost datagram): alone, a node never hears
    # of anyone, so it keeps retrying through the bootnodes until its table has peers.
    node.spawn(every(interval_s, partial(_rejoin_if_alone, node, boot), name="rejoin", jitter=False))
    publisher = None
    if options.role in (Role.VALIDATOR, Role.MINER) and not options.bootnode:
        publisher = HeartbeatPublisher(
            node,
            role=options.role,
            version=NODE_VERSION,  # protocol/version.py: the one source of the version
            addresses=options.addresses,
            manifest=manifest_provider_from_settings(),
            ttl_s=min(4 * interval_s, settings.DHT_HEARTBEAT_MAX_TTL_S),
        )
        await publisher.publish(NodeState.JOINING)
        node.spawn(every(interval_s, partial(_beat, publisher), name="heartbeat", jitter=False))
        discover = partial(heartbeats_discover, node, holder=hotkey.ss58)
        node.spawn(every(interval_s, discover, name="discovery", jitter=False))
        published = CatalogueRound(ttl_s=min(settings.CATALOGUE_RECORD_TTL_S, settings.DHT_MAX_RECORD_TTL_S))
        exchange = partial(
            catalogue_exchange, node, holder=hotkey.ss58, netuid=settings.CHAIN_NETUID, published=published
        )
        node.spawn(every(settings.CATALOGUE_SYNC_S, exchange, name="catalogue", jitter=False))
    if options.role == Role.VALIDATOR and not options.bootnode:
        _commit_reveal_start(node, holder=hotkey.ss58, block_s=block_s)
    await stop.wait()
    await dht_shutdown(node, publisher=publisher)


def _commit_reveal_start(node: DhtNode, *, holder: str, block_s: float) -> None:
    schedule = EpochSchedule(
        epoch_blocks=settings.DHT_EPOCH_BLOCKS,
        commit_fraction=settings.DHT_COMMIT_FRACTION,
        reveal_fraction=settings.DHT_REVEAL_FRACTION,
    )
    loop = commit_reveal_loop(
        node,
        holder=holder,
        schedule=schedule,
        block=db_sync_to_async(lambda: chain_client().current_block()),
        scores=scores_provider_from_settings(),
        # Below the 3-epoch cap, so a receiver whose clock runs a little behind still accepts.
        ttl_s=2 * settings.DHT_EPOCH_BLOCKS * block_s,
    )
    node.spawn(loop)


async def _rejoin_if_alone(node: DhtNode, boot: list[Addr]) -> None:
    if boot and not node.routing.peers():
        size = await node.bootstrap(boot)
        logger.warning(
            "dht: %s had no peers; joined again through %d bootnodes: %d peers", node.hotkey.ss58, len(boot), size
        )


async def _beat(publisher: HeartbeatPublisher) -> None:
    await publisher.measure_rtts()
    await publisher.publish(NodeState.ONLINE)


async def dht_shutdown(node: DhtNode, *, publisher: HeartbeatPublisher | None) -> None:
    """Announce OFFLINE (bounded in time: a dead network must not block shutdown), save, stop."""
    if publisher is not None:
        try:
            await asyncio.wait_for(publisher.publish(NodeState.OFFLINE), timeout=5 * node.config.rpc_timeout_s)
        except Exception:
            logger.warning("dht: could not publish OFFLINE before stopping")
    await node.persist()
    await node.stop()
    logger.info("dht: %s stopped", node.hotkey.ss58)
