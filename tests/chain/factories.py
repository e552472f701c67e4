"""factory_boy factories for the chain's models: LocalChain's tables, the synced metagraph and
weight commits."""

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from chain.interface import Role
from chain.models import LocalNeuron, LocalSubnet, MetagraphNeuron, MetagraphSnapshot, WeightCommit


class LocalSubnetFactory(DjangoModelFactory[LocalSubnet]):
    class Meta:
        model = LocalSubnet
        django_get_or_create = ("netuid",)

    netuid = 1
    genesis_at = factory.LazyFunction(timezone.now)
    block_seconds = 1.0


class LocalNeuronFactory(DjangoModelFactory[LocalNeuron]):
    class Meta:
        model = LocalNeuron

    subnet = factory.SubFactory(LocalSubnetFactory)
    uid = factory.Sequence(int)
    hotkey = factory.Sequence(lambda n: f"5Local{n:042d}")
    coldkey = factory.Sequence(lambda n: f"5LCold{n:042d}")
    role = Role.MINER
    stake = 0
    registered_block = 0


class MetagraphSnapshotFactory(DjangoModelFactory[MetagraphSnapshot]):
    """A subnet as synced from a real chain (synced_at set: selectors serve it)."""

    class Meta:
        model = MetagraphSnapshot
        django_get_or_create = ("chain", "netuid")

    chain = "subtensor"
    netuid = 1
    block = 100
    tempo = 360
    synced_at = factory.LazyFunction(timezone.now)
    next_sync_at = factory.LazyFunction(timezone.now)


class MetagraphNeuronFactory(DjangoModelFactory[MetagraphNeuron]):
    class Meta:
        model = MetagraphNeuron

    snapshot = factory.SubFactory(MetagraphSnapshotFactory)
    uid = factory.Sequence(int)
    hotkey = factory.Sequence(lambda n: f"5Synced{n:041d}")
    coldkey = factory.Sequence(lambda n: f"5SCold{n:042d}")
    stake = 0
    role = Role.MINER


class WeightCommitFactory(DjangoModelFactory[WeightCommit]):
    class Meta:
        model = WeightCommit

    chain = "subtensor"
    netuid = 1
    hotkey = factory.Sequence(lambda n: f"5Validator{n:038d}")
    commit_hash = factory.Sequence(lambda n: f"0x{n:064x}")
    uids = factory.LazyFunction(lambda: [1])
    values = factory.LazyFunction(lambda: [65535])
    salt = factory.LazyFunction(lambda: [1, 2, 3, 4, 5, 6, 7, 8])
    version_key = 0
    status = WeightCommit.Status.COMMITTED
    commit_block = 1000
    reveal_from_block = 1360
    reveal_until_block = 1720
