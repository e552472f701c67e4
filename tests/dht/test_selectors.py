"""What the rest of a node reads from the DHT's tables: live nodes (ONLINE, fresh, unexpired, the
latest heartbeat per hotkey), routable miners, known peers and our own commits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chain.interface import Role
from dht.models import ValidatorAgreement
from dht.policy.values import NodeState
from dht.selectors import (
    dht_agreements_with,
    dht_known_peers,
    dht_live_hotkeys,
    dht_live_nodes,
    dht_miner_addresses,
    dht_own_commit_get,
    dht_routable_miners,
)
from tests.dht.factories import KnownPeerFactory, NodeHeartbeatFactory, OwnScoreCommitFactory

pytestmark = pytest.mark.django_db


def test_only_online_fresh_unexpired_nodes_are_live():
    now = timezone.now()
    online = NodeHeartbeatFactory()
    NodeHeartbeatFactory(state=NodeState.OFFLINE)
    NodeHeartbeatFactory(state=NodeState.JOINING)
    lapsed = NodeHeartbeatFactory(published_at=now - timedelta(seconds=300))
    NodeHeartbeatFactory(expires_at=now - timedelta(seconds=1))  # expired
    NodeHeartbeatFactory(role="validator")
    live = dht_live_nodes(role=Role.MINER)
    assert [n.hotkey for n in live] == [online.hotkey]
    assert live[0].state == NodeState.ONLINE
    assert dht_live_hotkeys(role=Role.MINER) == {online.hotkey}
    assert {n.hotkey for n in dht_live_nodes(role=Role.MINER, lapse_s=600)} == {online.hotkey, lapsed.hotkey}


def test_a_holder_sees_only_its_own_rows():
    mine = NodeHeartbeatFactory(holder="5Me")
    NodeHeartbeatFactory(holder="5Other")
    assert [n.hotkey for n in dht_live_nodes(holder="5Me")] == [mine.hotkey]


def test_routable_miners_follow_the_setting(settings):
    live = NodeHeartbeatFactory(addresses=["10.1.1.1:8001"])
    NodeHeartbeatFactory(addresses=[])
    chain = [str(live.hotkey), "5Silent"]
    settings.DHT_ROUTE_REQUIRE_HEARTBEAT = False
    assert dht_routable_miners(chain) == set(chain)
    settings.DHT_ROUTE_REQUIRE_HEARTBEAT = True
    assert dht_routable_miners(chain) == {live.hotkey}
    assert dht_miner_addresses() == {live.hotkey: "10.1.1.1:8001"}


def test_known_peers_most_recently_seen_first():
    now = timezone.now()
    old = KnownPeerFactory(last_seen_at=now - timedelta(hours=1))
    new = KnownPeerFactory(last_seen_at=now)
    KnownPeerFactory(holder="5Other")
    peers = dht_known_peers(holder="5Holder")
    assert [(p.hotkey, p.port) for p in peers] == [(new.hotkey, new.port), (old.hotkey, old.port)]
    assert peers[0].last_seen == pytest.approx(now.timestamp())


def test_own_commit_of_one_epoch_and_holder():
    commit = OwnScoreCommitFactory(epoch=7)
    OwnScoreCommitFactory(epoch=7, holder="5Other")
    assert dht_own_commit_get(holder="5Holder", epoch=7) == commit
    assert dht_own_commit_get(holder="5Holder", epoch=8) is None


def test_agreements_with_one_validator_are_its_pairs_in_the_last_epochs_either_side():
    def pair(epoch: int, a: str, b: str, agreement: float, holder: str = "5Me") -> None:
        ValidatorAgreement.objects.create(
            holder=holder, epoch=epoch, validator_a=a, validator_b=b, agreement=agreement, miners=3
        )

    pair(1, "5Me", "5V2", 0.1)  # too old with epochs=2
    pair(2, "5Me", "5V2", 0.9)
    pair(3, "5Me", "5V2", 0.8)
    pair(3, "5V1", "5Me", 0.5)  # the pair is sorted: this validator may be either side
    pair(3, "5V1", "5V2", 0.0)  # not this validator's
    pair(3, "5Me", "5V3", 0.0, holder="5Other")  # another node's view
    assert dht_agreements_with(holder="5Me", validator="5Me", epochs=2) == {
        "5V1": [(3, 0.5)],
        "5V2": [(2, 0.9), (3, 0.8)],
    }
    assert dht_agreements_with(holder="5Me", validator="5Nobody", epochs=2) == {}
