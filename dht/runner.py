"""One node's DHT process (`manage.py dht`): wires the node to settings, the chain and Postgres,
runs its loops, and on stop publishes OFFLINE and saves its state."""

import asyncio
import logging
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils.module_loading import import_string

from chain.client import chain_client
from chain.selectors import ChainNeurons
from dht.bootnodes import chain_bootnodes, resolve
from dht.commit_reveal import EpochSchedule
from dht.conf import DhtConfig
from dht.cr_loop import ScoresProvider, commit_reveal_loop
from dht.discovery import discover
from dht.heartbeat import HeartbeatPublisher, manifest_from_settings
from dht.maintenance import maintenance_start
from dht.node import DhtNode
from dht.persistence import PostgresPersistence
from dht.schemas import NodeState, default_namespaces
from dht.stake import ChainStakeSource
from dht.transport import Addr
from dht.validation import default_chain
from protocol.keys import Hotkey

logger = logging.getLogger(__name__)


@dataclass
class RunOptions:
    host: str
    port: int
    role: str | None = None  # validator | miner; None for a bootnode
    addresses: list[str] = field(default_factory=list)
    bootnode: bool = False


def _block_seconds() -> float:
    return chain_client().block_seconds()


def node_from_settings(hotkey: Hotkey) -> DhtNode:
    config = DhtConfig.from_settings()
    stake = ChainStakeSource(
        ChainNeurons(), refresh_s=settings.DHT_STAKE_REFRESH_S, miss_refresh_s=settings.DHT_STAKE_MISS_REFRESH_S
    )
    epoch_s = settings.DHT_EPOCH_BLOCKS * _block_seconds()
    namespaces = default_namespaces(
        heartbeat_ttl_s=settings.DHT_HEARTBEAT_MAX_TTL_S,
        scores_ttl_s=3 * epoch_s,
        min_validator_stake=settings.MIN_VALIDATOR_STAKE,
    )
    validators = default_chain(stake=stake, namespaces=namespaces, config=config)
    return DhtNode(hotkey=hotkey, config=config, stake=stake, validators=validators)


def _scores_provider() -> ScoresProvider:
    path = settings.DHT_SCORES_PROVIDER
    return import_string(path) if path else (lambda epoch: None)


async def _every(interval_s: float, job: object, name: str) -> None:
    while True:
        try:
            await job()  # type: ignore[operator]
        except Exception:
            logger.exception("dht: %s failed", name)
        await asyncio.sleep(interval_s)


async def dht_run(*, hotkey: Hotkey, options: RunOptions, stop: asyncio.Event) -> None:
    node = node_from_settings(hotkey)
    persistence = PostgresPersistence(holder=hotkey.ss58)
    node.store.listener = persistence
    await node.start(options.host, options.port)
    restored = await persistence.restore(node)
    chain_entries = await sync_to_async(chain_bootnodes, thread_sensitive=True)(
        ChainNeurons(), port_offset=settings.DHT_CHAIN_PORT_OFFSET
    )
    boot = [a for a in await resolve([*settings.DHT_BOOTNODES, *chain_entries]) if a != node.addr]
    known = await persistence.known_peers()
    size = await node.bootstrap(boot, known=known)
    logger.info(
        "dht: %s listening on %s:%d (%s), %d records restored, %d peers",
        hotkey.ss58,
        *node.addr,
        "bootnode" if options.bootnode else options.role,
        restored,
        size,
    )
    maintenance_start(node, owned={}, persistence=persistence)
    # A join can fail (bootnode not answering yet, a lost datagram): alone, a node never hears
    # of anyone, so it keeps retrying through the bootnodes until its table has peers.
    node.spawn(_every(settings.DHT_HEARTBEAT_INTERVAL_S, lambda: _rejoin_if_alone(node, boot), "rejoin"))
    node.spawn(persistence.run(node))
    publisher = None
    if options.role in ("validator", "miner") and not options.bootnode:
        publisher = HeartbeatPublisher(
            node,
            role=options.role,
            version=settings.DHT_NODE_VERSION,
            addresses=options.addresses,
            manifest=manifest_from_settings(),
            ttl_s=min(4 * settings.DHT_HEARTBEAT_INTERVAL_S, settings.DHT_HEARTBEAT_MAX_TTL_S),
        )
        await publisher.publish(NodeState.JOINING)
        node.spawn(_every(settings.DHT_HEARTBEAT_INTERVAL_S, lambda: _beat(publisher), "heartbeat"))
        node.spawn(_every(settings.DHT_HEARTBEAT_INTERVAL_S, lambda: discover(node, holder=hotkey.ss58), "discovery"))
    if options.role == "validator" and not options.bootnode:
        schedule = EpochSchedule(
            epoch_blocks=settings.DHT_EPOCH_BLOCKS,
            commit_fraction=settings.DHT_COMMIT_FRACTION,
            reveal_fraction=settings.DHT_REVEAL_FRACTION,
        )
        block = sync_to_async(lambda: chain_client().current_block(), thread_sensitive=True)
        node.spawn(
            commit_reveal_loop(
                node,
                holder=hotkey.ss58,
                schedule=schedule,
                block=block,
                scores=_scores_provider(),
                # Below the 3-epoch cap, so a receiver whose clock runs a little behind still accepts.
                ttl_s=2 * settings.DHT_EPOCH_BLOCKS * _block_seconds(),
            )
        )
    await stop.wait()
    await dht_shutdown(node, publisher=publisher, persistence=persistence)


async def _rejoin_if_alone(node: DhtNode, boot: list[Addr]) -> None:
    if boot and not node.routing.peers():
        size = await node.bootstrap(boot)
        logger.warning(
            "dht: %s had no peers; joined again through %d bootnodes: %d peers", node.hotkey.ss58, len(boot), size
        )


async def _beat(publisher: HeartbeatPublisher) -> None:
    await publisher.measure_rtts()
    await publisher.publish(NodeState.ONLINE)


async def dht_shutdown(
    node: DhtNode, *, publisher: HeartbeatPublisher | None, persistence: PostgresPersistence | None
) -> None:
    """Announce OFFLINE (bounded in time: a dead network must not block shutdown), save, stop."""
    if publisher is not None:
        try:
            await asyncio.wait_for(publisher.publish(NodeState.OFFLINE), timeout=5 * node.config.rpc_timeout_s)
        except Exception:
            logger.warning("dht: could not publish OFFLINE before stopping")
    if persistence is not None:
        await persistence.flush()
        await persistence.save_peers(node)
    await node.stop()
    logger.info("dht: %s stopped", node.hotkey.ss58)
