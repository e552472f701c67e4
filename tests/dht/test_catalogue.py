"""Publish → sync over a real swarm: the owner's DHT process puts its signed catalogue, another
node's fetches it, and that node's `catalogue_sync` task applies it to its class table."""

import pytest
from asgiref.sync import sync_to_async

from dht.catalogue import CatalogueRound, catalogue_exchange, catalogue_fetch, catalogue_sync
from dht.engine.interfaces import StakeInfo
from dht.engine.records import record_sign
from dht.models import StoredRecord
from dht.policy.namespaces import catalogue_key
from dht.tasks import catalogue_sync as catalogue_sync_task
from executor.models import CatalogueState, ExecutorClass
from executor.selectors import catalogue_state_get
from executor.services.catalogue import catalogue_build, catalogue_publish
from protocol.catalogue import catalogue_sign
from protocol.identity import node_hotkey
from protocol.keys import hotkey_create, hotkey_write
from tests.dht.swarm import Swarm

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def network(settings, node_key, executor_classes):
    """A 4-node swarm whose nodes trust `node_key` as the subnet owner, plus the owner's node."""
    settings.SUBNET_OWNER_HOTKEY = node_key.ss58
    swarm = Swarm(catalogue_owner=node_key.ss58)
    swarm.stake.table[node_key.ss58] = StakeInfo(stake=0, role="validator")
    await swarm.grow(4)
    owner_node = await swarm.join(hotkey=node_key)
    yield swarm, owner_node
    await swarm.close()


def _become_another_node(settings, tmp_path):
    """Switch this process's identity to a non-owner node with a stale (seeded) class table."""
    hotkey, seed = hotkey_create()
    path = tmp_path / "other.json"
    hotkey_write(path=path, hotkey=hotkey, seed_hex=seed)
    settings.HOTKEY_PATH = path
    node_hotkey.cache_clear()
    ExecutorClass.objects.filter(name="gpu.a100").delete()
    ExecutorClass.objects.filter(name="cpu.large").update(is_active=True)
    return hotkey


async def test_the_owners_catalogue_reaches_another_nodes_table(network, settings, tmp_path):
    swarm, owner_node = network
    owner = owner_node.hotkey.ss58

    def edit_and_publish():
        ExecutorClass.objects.filter(name="cpu.large").update(is_active=False)
        ExecutorClass.objects.create(
            name="gpu.a100", cpus=8, memory_mb=65536, pids=512, output_mb=512, price_per_second="0.05",
            gpu=True, gpu_count=1, gpu_model="A100",
        )  # fmt: skip
        return catalogue_publish()

    envelope = await sync_to_async(edit_and_publish, thread_sensitive=True)()
    published = CatalogueRound(ttl_s=600)
    assert await catalogue_exchange(owner_node, holder=owner, netuid=1, published=published) == 1
    assert published.digest == (await sync_to_async(catalogue_state_get, thread_sensitive=True)()).digest

    other = swarm.nodes[2]
    other_key = await sync_to_async(_become_another_node, thread_sensitive=True)(settings, tmp_path)
    assert await catalogue_fetch(other, holder=other_key.ss58, netuid=1) == 1

    def sync_and_read():
        # One database plays both nodes: forget what the owner's side recorded, then run the task.
        CatalogueState.objects.all().delete()
        assert StoredRecord.objects.filter(holder=other_key.ss58, key="catalogue:1").count() == 1
        applied = catalogue_sync_task()
        again = catalogue_sync(holder=other_key.ss58, owner=owner, netuid=1)
        return applied, again, {c.name: c.is_active for c in ExecutorClass.objects.all()}, catalogue_state_get()

    applied, again, table, state = await sync_to_async(sync_and_read, thread_sensitive=True)()
    assert (applied, again) == (1, None)  # applied once; the same version is not applied twice
    assert table == {"cpu.small": True, "cpu.large": False, "gpu.a100": True}
    assert (state.version, state.owner, state.envelope) == (1, owner, envelope.model_dump(mode="json"))


async def test_a_catalogue_from_anyone_else_never_enters_the_dht(network):
    swarm, owner_node = network
    intruder = swarm.nodes[1]
    built = await sync_to_async(catalogue_build, thread_sensitive=True)(version=99)
    value = catalogue_sign(catalogue=built, hotkey=intruder.hotkey).model_dump(mode="json")
    record = record_sign(hotkey=intruder.hotkey, key=catalogue_key(1), value=value, expires=owner_node.clock() + 60)
    assert (
        await swarm.nodes[2].accept_record(record, source="test")
        == "rejected: catalogue: record not put by the subnet owner"
    )
    assert await owner_node.get(catalogue_key(1)) == {}
