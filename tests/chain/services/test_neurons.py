"""Writes that change the subnet (chain/services/neurons.py): the client writes, the service re-syncs."""

import pytest

from chain.interface import Metagraph, Neuron, NotRegistered, Role
from chain.local import LocalChain
from chain.models import MetagraphSnapshot
from chain.selectors import metagraph_neuron
from chain.services.neurons import neuron_register, neuron_serve, neuron_stake_add
from tests.chain.scripted import ScriptedChain

pytestmark = pytest.mark.django_db
HOTKEY = "5Node"


def subnet(*, stake: int = 0, address: str | None = None) -> Metagraph:
    neuron = Neuron(uid=0, hotkey=HOTKEY, coldkey="5Cold", stake=stake, role=Role.MINER, address=address)
    return Metagraph(netuid=1, block=10 + stake, tempo=360, neurons=[neuron])


def stored() -> Neuron:
    neuron = metagraph_neuron(chain="scripted", netuid=1, hotkey=HOTKEY)
    assert neuron is not None
    return neuron


def test_each_write_is_followed_by_a_sync_so_the_stored_metagraph_shows_it():
    chain = ScriptedChain(subnet(), subnet(address="203.0.113.7:8000"), subnet(stake=5, address="203.0.113.7:8000"))
    assert neuron_register(client=chain, hotkey=HOTKEY, coldkey="5Cold", role=Role.MINER).uid == 0
    assert stored().address is None
    neuron_serve(client=chain, hotkey=HOTKEY, address="203.0.113.7:8000")
    assert stored().address == "203.0.113.7:8000"
    neuron_stake_add(client=chain, hotkey=HOTKEY, amount=5)
    assert stored().stake == 5
    assert [kind for kind, _ in chain.writes] == ["register", "serve", "add_stake"]
    assert chain.reads == 3


def test_a_refused_write_is_raised_and_syncs_nothing():
    chain = LocalChain()
    with pytest.raises(NotRegistered):
        neuron_serve(client=chain, hotkey="5Stranger", address="h:1")
    with pytest.raises(NotRegistered):
        neuron_stake_add(client=chain, hotkey="5Stranger", amount=1)
    assert neuron_register(client=chain, hotkey=HOTKEY, coldkey="5Cold", role=Role.MINER).uid == 0
    assert not MetagraphSnapshot.objects.exists()  # the local chain's tables are its state
