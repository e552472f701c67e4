"""factory_boy factories for the DHT's models."""

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from dht.models import KnownPeer, NodeHeartbeat, OwnScoreCommit, ScoreReveal
from dht.policy.values import NodeState


class NodeHeartbeatFactory(DjangoModelFactory[NodeHeartbeat]):
    class Meta:
        model = NodeHeartbeat

    holder = "5Holder"
    hotkey = factory.Sequence(lambda n: f"5Node{n:043d}")
    role = "miner"
    state = NodeState.ONLINE
    version = "0.1.0"
    addresses = factory.Sequence(lambda n: [f"10.0.0.{n % 250 + 1}:8001"])
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=1))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(seconds=120))


class KnownPeerFactory(DjangoModelFactory[KnownPeer]):
    class Meta:
        model = KnownPeer

    holder = "5Holder"
    hotkey = factory.Sequence(lambda n: f"5Peer{n:043d}")
    host = "127.0.0.1"
    port = factory.Sequence(lambda n: 7500 + n)
    last_seen_at = factory.LazyFunction(timezone.now)


class OwnScoreCommitFactory(DjangoModelFactory[OwnScoreCommit]):
    class Meta:
        model = OwnScoreCommit

    holder = "5Holder"
    epoch = factory.Sequence(lambda n: n)
    salt = "00" * 16
    scores = factory.LazyFunction(lambda: {"5Miner": 1.0})
    digest = "0" * 64


class ScoreRevealFactory(DjangoModelFactory[ScoreReveal]):
    """A validator's commit as frozen at the end of the commit window (not yet revealed)."""

    class Meta:
        model = ScoreReveal

    holder = "5Holder"
    epoch = 7
    validator = factory.Sequence(lambda n: f"5Validator{n:038d}")
    digest = factory.Sequence(lambda n: f"{n:064x}")
