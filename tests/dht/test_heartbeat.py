"""Heartbeats: validators and miners publish signed heartbeats; discovery writes them to Postgres;
the router's selector returns only ONLINE nodes with fresh heartbeats."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chain.interface import Role
from dht.discovery import heartbeats_discover
from dht.engine.interfaces import StakeInfo
from dht.heartbeat import HeartbeatPublisher
from dht.models import NodeHeartbeat
from dht.policy.values import NodeState, manifest_digest
from dht.selectors import dht_live_nodes, dht_miner_addresses, dht_routable_miners

pytestmark = pytest.mark.django_db(transaction=True)
MANIFEST = {"cpu.small": {"count": 2}}


@pytest.fixture
async def network(make_swarm):
    swarm = await make_swarm(6)
    validator = swarm.nodes[1]
    swarm.stake.table[validator.hotkey.ss58] = StakeInfo(stake=1000, role="validator")
    miners = swarm.nodes[2:5]
    publishers = [
        HeartbeatPublisher(
            node,
            role=Role.MINER,
            version="1.2.3",
            addresses=[f"127.0.0.1:{9000 + i}"],
            manifest=lambda: manifest_digest(MANIFEST),
            ttl_s=120,
        )
        for i, node in enumerate(miners)
    ]
    return swarm, validator, miners, publishers


async def test_validators_find_miners_through_heartbeats(network):
    _swarm, validator, miners, publishers = network
    for publisher in publishers:
        await publisher.measure_rtts()
        await publisher.publish(NodeState.ONLINE)
    holder = validator.hotkey.ss58
    assert await heartbeats_discover(validator, holder=holder) == 3
    live = await _live(holder)
    assert [n.hotkey for n in live] == sorted(m.hotkey.ss58 for m in miners)
    first = live[0]
    assert first.role == "miner"
    assert first.state == NodeState.ONLINE
    assert first.version == "1.2.3"
    assert first.manifest_digest == manifest_digest(MANIFEST)
    assert len(first.manifest_digest) == 64
    assert first.addresses[0].startswith("127.0.0.1:90")
    assert first.rtts_ms
    assert all(v >= 0 for v in first.rtts_ms.values())


async def test_offline_and_lapsed_miners_are_no_longer_routed_to(network):
    _swarm, validator, miners, publishers = network
    for publisher in publishers:
        await publisher.publish(NodeState.ONLINE)
    await publishers[0].publish(NodeState.OFFLINE)  # a clean shutdown
    holder = validator.hotkey.ss58
    await heartbeats_discover(validator, holder=holder)
    live = {n.hotkey for n in await _live(holder)}
    assert live == {miners[1].hotkey.ss58, miners[2].hotkey.ss58}
    # miners[1] stops heartbeating: once its last heartbeat is older than the lapse, it is gone.
    await NodeHeartbeat.objects.filter(hotkey=miners[1].hotkey.ss58).aupdate(
        published_at=timezone.now() - timedelta(seconds=300)
    )
    assert {n.hotkey for n in await _live(holder)} == {miners[2].hotkey.ss58}


async def test_a_miner_cannot_announce_itself_as_a_validator(network):
    _swarm, validator, miners, _publishers = network
    impostor = HeartbeatPublisher(
        miners[0], role=Role.VALIDATOR, version="1", addresses=[], manifest=lambda: "", ttl_s=120
    )
    assert await impostor.publish(NodeState.ONLINE) == 0
    assert await heartbeats_discover(validator, holder=validator.hotkey.ss58) == 0


async def _live(holder: str):
    return await sync_to_async(dht_live_nodes)(role=Role.MINER, holder=holder)


async def test_routable_miners_follow_the_setting(network, settings):
    _swarm, validator, miners, publishers = network
    await publishers[0].publish(NodeState.ONLINE)
    await heartbeats_discover(validator, holder=validator.hotkey.ss58)
    chain_miners = [m.hotkey.ss58 for m in miners]
    settings.DHT_ROUTE_REQUIRE_HEARTBEAT = False
    assert await sync_to_async(dht_routable_miners)(chain_miners) == set(chain_miners)
    settings.DHT_ROUTE_REQUIRE_HEARTBEAT = True
    assert await sync_to_async(dht_routable_miners)(chain_miners) == {miners[0].hotkey.ss58}
    assert await sync_to_async(dht_miner_addresses)() == {miners[0].hotkey.ss58: "127.0.0.1:9000"}
