"""The metagraph sync (chain/services/metagraph.py): stored in Postgres, read from there, backing off
while the node is down."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from chain import tasks
from chain.devnet.chopsticks import free_port
from chain.interface import ChainUnavailable, Metagraph, Neuron, Role
from chain.local import LocalChain
from chain.models import MetagraphSnapshot
from chain.selectors import metagraph_neuron, metagraph_neurons
from chain.services.metagraph import metagraph_ensure, metagraph_store, metagraph_sync
from chain.substrate.connection import SubstrateConnection
from chain.substrate.subtensor import SubtensorChain
from tests.chain.scripted import ScriptedChain

pytestmark = pytest.mark.django_db
HOTKEY = "5DJhSQDPnoeoBdDwZSDw1bRGLbRFj5fvs2wbayiGfcPy3iLY"


def metagraph(block: int, *, address: str | None = "203.0.113.7:8100") -> Metagraph:
    neuron = Neuron(uid=4, hotkey=HOTKEY, coldkey="5Cold", stake=12, role=Role.MINER, address=address, last_update=3)
    return Metagraph(netuid=1, block=block, tempo=360, neurons=[neuron], commit_reveal=True, weights_rate_limit=100)


def test_a_sync_stores_the_metagraph_and_applies_address_overrides(settings):
    settings.CHAIN_ADDRESS_OVERRIDES = {HOTKEY: "127.0.0.1:9001"}
    snapshot = metagraph_sync(client=ScriptedChain(metagraph(50)))
    assert snapshot is not None
    assert (snapshot.block, snapshot.tempo, snapshot.commit_reveal, snapshot.failures) == (50, 360, True, 0)
    expected = Neuron(
        uid=4, hotkey=HOTKEY, coldkey="5Cold", stake=12, role=Role.MINER, address="127.0.0.1:9001", last_update=3
    )
    assert metagraph_neurons(chain="scripted", netuid=1) == [expected]
    assert metagraph_neuron(chain="scripted", netuid=1, hotkey=HOTKEY) == expected
    assert snapshot.neurons.get().announced_address == "203.0.113.7:8100"


def test_a_sync_is_skipped_until_due_and_an_older_read_never_replaces_a_newer_one():
    chain = ScriptedChain(metagraph(50), metagraph(40))
    metagraph_sync(client=chain)
    assert metagraph_sync(client=chain) is None  # not due: no chain read
    assert chain.reads == 1
    assert (forced := metagraph_sync(client=chain, force=True)) is not None
    assert forced.block == 50  # the block-40 read lost
    assert metagraph_store(chain="scripted", metagraph=metagraph(60, address=None)).block == 60
    assert [n.address for n in metagraph_neurons(chain="scripted", netuid=1) or []] == [None]


def test_failures_back_off_exponentially_and_keep_the_last_good_copy(settings):
    settings.CHAIN_SYNC_INTERVAL_S, settings.CHAIN_SYNC_MAX_BACKOFF_S = 10.0, 60.0
    down = ChainUnavailable("ws://node: refused", name="Unavailable")
    chain = ScriptedChain(metagraph(50), down, down, down, down)
    metagraph_sync(client=chain)
    delays = []
    for failures in range(1, 5):
        MetagraphSnapshot.objects.update(next_sync_at=timezone.now() - timedelta(seconds=1))
        with pytest.raises(ChainUnavailable):
            metagraph_sync(client=chain)
        snapshot = MetagraphSnapshot.objects.get()
        assert (snapshot.failures, snapshot.last_error) == (failures, "Unavailable: ws://node: refused")
        delays.append((snapshot.next_sync_at - timezone.now()).total_seconds())
    assert 4.5 < delays[0] <= 10  # between half and all of the interval
    assert 29.5 < delays[3] <= 60  # 10 * 2^3 = 80, capped at 60
    assert [n.stake for n in metagraph_neurons(chain="scripted", netuid=1) or []] == [12]  # still served


def test_an_unreachable_node_is_a_clear_error_after_bounded_retries():
    connection = SubstrateConnection(url=f"ws://127.0.0.1:{free_port()}", retries=3, backoff_s=0.01)
    chain = SubtensorChain(netuid=1, connection=connection)
    started = time.monotonic()
    with pytest.raises(ChainUnavailable) as down:
        metagraph_sync(client=chain)
    assert time.monotonic() - started < 5
    assert "ConnectionRefusedError" in str(down.value)
    assert MetagraphSnapshot.objects.get(chain="subtensor").failures == 1


def test_the_periodic_task_does_nothing_on_the_local_chain(settings):
    settings.CHAIN = "local"
    assert metagraph_sync(client=LocalChain(), force=True) is None
    assert tasks.sync_metagraph() is None
    assert tasks.reveal_weights() == 0
    assert not MetagraphSnapshot.objects.exists()


def test_ensure_syncs_only_a_node_that_never_synced():
    chain = ScriptedChain(metagraph(50), metagraph(60))
    metagraph_ensure(client=chain)
    assert chain.reads == 1
    assert [n.hotkey for n in metagraph_neurons(chain="scripted", netuid=1) or []] == [HOTKEY]
    metagraph_ensure(client=chain)  # synced once already: the scheduled sync keeps it fresh
    assert chain.reads == 1
    metagraph_ensure(client=LocalChain())  # the local chain's tables are its state: nothing to sync
    assert MetagraphSnapshot.objects.count() == 1


def test_a_failed_sync_is_logged_with_its_subnet(caplog):
    chain = ScriptedChain(ChainUnavailable("ws://node: refused", name="Unavailable"))
    with pytest.raises(ChainUnavailable):
        metagraph_sync(client=chain)
    assert "metagraph sync of scripted subnet 1 failed (1 in a row)" in caplog.text
    assert "Unavailable: ws://node: refused" in caplog.text
