"""Reads of the chain from Postgres only (chain/selectors.py): LocalChain's tables or the metagraph
synced from a real chain, chosen by the backend; never the network."""

import pytest

from chain.client import chain_client
from chain.interface import Role
from chain.local import LocalChain
from chain.models import LocalSubnet
from chain.router import chain_alias
from chain.selectors import ChainNeurons, chain_min_version, chain_neuron, chain_neurons, chain_validator_refusal
from protocol.keys import hotkey_create
from protocol.version import version_as_int
from tests.chain.factories import LocalNeuronFactory, MetagraphNeuronFactory, MetagraphSnapshotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subtensor(settings, fresh_chain_client):
    """The configured backend is a real chain (never contacted: selectors read Postgres only)."""
    settings.CHAIN, settings.CHAIN_ENDPOINT, settings.CHAIN_NETUID = "subtensor", "ws://127.0.0.1:1", 1
    settings.MIN_VALIDATOR_STAKE = 1000
    return chain_client()


def _register(local_chain, role: Role, stake: int) -> str:
    hotkey = hotkey_create()[0].ss58
    local_chain.register(hotkey=hotkey, coldkey=hotkey_create()[0].ss58, role=role)
    if stake:
        local_chain.add_stake(hotkey=hotkey, amount=stake)
    return hotkey


def test_staked_validator_is_admitted(local_chain):
    assert chain_validator_refusal(_register(local_chain, Role.VALIDATOR, 1000)) is None
    assert chain_validator_refusal(_register(local_chain, Role.VALIDATOR, 10**9)) is None


def test_unregistered_hotkey_is_refused(local_chain):
    hotkey = hotkey_create()[0].ss58
    assert chain_validator_refusal(hotkey) == f"{hotkey} is not registered on subnet 1"


def test_miner_is_refused(local_chain):
    hotkey = _register(local_chain, Role.MINER, 10**6)
    assert chain_validator_refusal(hotkey) == f"{hotkey} is registered as a miner, not a validator"


def test_under_staked_validator_is_refused(local_chain):
    hotkey = _register(local_chain, Role.VALIDATOR, 999)
    assert chain_validator_refusal(hotkey) == f"{hotkey} has stake 999 < minimum 1000"
    local_chain.add_stake(hotkey=hotkey, amount=1)
    assert chain_validator_refusal(hotkey) is None


def test_minimum_stake_comes_from_settings(local_chain, settings):
    hotkey = _register(local_chain, Role.VALIDATOR, 0)
    assert "stake 0 < minimum 1000" in str(chain_validator_refusal(hotkey))
    settings.MIN_VALIDATOR_STAKE = 0
    assert chain_validator_refusal(hotkey) is None


def test_registered_on_another_subnet_is_refused(local_chain, settings):
    hotkey = hotkey_create()[0].ss58
    other = LocalChain(netuid=5)
    other.register(hotkey=hotkey, coldkey=hotkey_create()[0].ss58, role=Role.VALIDATOR)
    other.add_stake(hotkey=hotkey, amount=5000)
    assert "not registered on subnet 1" in str(chain_validator_refusal(hotkey))
    settings.CHAIN_NETUID = 5
    assert chain_validator_refusal(hotkey) is None


def test_on_the_local_chain_neurons_are_its_tables(local_chain):
    rows = [LocalNeuronFactory.create(uid=1, role=Role.VALIDATOR, stake=5), LocalNeuronFactory.create(uid=0)]
    LocalNeuronFactory.create(subnet__netuid=2, uid=0)  # another subnet
    assert [n.hotkey for n in chain_neurons()] == [rows[1].hotkey, rows[0].hotkey]
    assert chain_neuron(hotkey=rows[0].hotkey) == local_chain.neuron(rows[0].hotkey)
    assert ChainNeurons().neurons() == chain_neurons()


def test_on_a_real_chain_neurons_are_the_synced_metagraph(subtensor, django_assert_max_num_queries):
    validator = MetagraphNeuronFactory.create(uid=0, role=Role.VALIDATOR, stake=1000, address="203.0.113.7:8000")
    miner = MetagraphNeuronFactory.create(uid=1, snapshot=validator.snapshot)
    MetagraphNeuronFactory.create(snapshot=MetagraphSnapshotFactory.create(chain="hypertensor"))  # another chain's copy
    with django_assert_max_num_queries(4):
        assert [n.hotkey for n in chain_neurons()] == [validator.hotkey, miner.hotkey]
        assert (found := chain_neuron(hotkey=validator.hotkey)) is not None
        assert found.address == "203.0.113.7:8000"
        assert chain_validator_refusal(validator.hotkey) is None
    assert chain_validator_refusal(miner.hotkey) == f"{miner.hotkey} is registered as a miner, not a validator"


def test_a_real_chain_never_synced_refuses_with_a_clear_reason_and_does_not_sync(subtensor):
    hotkey = hotkey_create()[0].ss58
    assert chain_neurons() == []
    assert chain_neuron(hotkey=hotkey) is None
    assert chain_validator_refusal(hotkey) == (
        f"{hotkey} cannot be checked: the subtensor subnet 1 was never synced on this node"
    )
    # Nothing was read from ws://127.0.0.1:1 (refused): the selectors never open a connection.
    assert subtensor.connection._interface is None


def test_a_snapshot_claimed_but_never_stored_serves_nothing(subtensor):
    MetagraphNeuronFactory.create(snapshot=MetagraphSnapshotFactory.create(synced_at=None))
    assert chain_neurons() == []


# --- the subnet's minimum node version (its weights version key)


def test_the_local_subnet_sets_no_minimum_by_default(local_chain):
    local_chain.current_block()  # creates the subnet row
    assert chain_min_version() is None


def test_the_local_subnet_minimum_is_its_weights_version(local_chain):
    local_chain.current_block()
    LocalSubnet.objects.using(chain_alias()).update(weights_version=version_as_int("0.3.1"))
    assert chain_min_version() == "0.3.1"
    assert local_chain.fetch_metagraph().weights_version == 301


def test_a_real_chains_minimum_is_the_synced_weights_version(subtensor):
    assert chain_min_version() is None  # never synced: nothing to require
    MetagraphSnapshotFactory.create(chain="subtensor", netuid=1, weights_version=10203)
    assert chain_min_version() == "1.2.3"
