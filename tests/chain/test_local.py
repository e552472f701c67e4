"""LocalChain: the chain kept in Postgres (chain/local.py)."""

import math
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from chain.interface import ChainError, Neuron, NotRegistered, Role
from chain.local import LocalChain
from chain.models import LocalSubnet, LocalWeights
from protocol.keys import hotkey_create

pytestmark = pytest.mark.django_db


def _ss58() -> str:
    return hotkey_create()[0].ss58


def test_register_allocates_uids_in_order(local_chain):
    cold = _ss58()
    hotkeys = [_ss58() for _ in range(3)]
    neurons = [local_chain.register(hotkey=h, coldkey=cold, role=Role.MINER) for h in hotkeys]
    assert [n.uid for n in neurons] == [0, 1, 2]
    assert neurons[0] == Neuron(uid=0, hotkey=hotkeys[0], coldkey=cold, stake=0, role=Role.MINER, address=None)
    assert [n.hotkey for n in local_chain.neurons()] == hotkeys


def test_subnets_are_separate(settings):
    one, two = LocalChain(netuid=1), LocalChain(netuid=2)
    hotkey, cold = _ss58(), _ss58()
    one.register(hotkey=hotkey, coldkey=cold, role=Role.VALIDATOR)
    assert two.register(hotkey=_ss58(), coldkey=cold, role=Role.MINER).uid == 0
    assert two.neuron(hotkey) is None
    assert (neuron := one.neuron(hotkey)) is not None
    assert neuron.uid == 0
    settings.CHAIN_NETUID = 2
    assert LocalChain().netuid == 2


def test_reregister_with_the_same_coldkey_keeps_the_uid_and_updates_the_role(local_chain):
    hotkey, cold = _ss58(), _ss58()
    first = local_chain.register(hotkey=hotkey, coldkey=cold, role=Role.MINER)
    local_chain.register(hotkey=_ss58(), coldkey=cold, role=Role.MINER)
    again = local_chain.register(hotkey=hotkey, coldkey=cold, role=Role.VALIDATOR)
    assert (again.uid, again.role) == (first.uid, Role.VALIDATOR)
    assert len(local_chain.neurons()) == 2


def test_reregister_with_another_coldkey_is_refused_by_name(local_chain):
    hotkey, cold = _ss58(), _ss58()
    local_chain.register(hotkey=hotkey, coldkey=cold, role=Role.MINER)
    with pytest.raises(ChainError) as info:
        local_chain.register(hotkey=hotkey, coldkey=_ss58(), role=Role.VALIDATOR)
    assert info.value.name == "HotKeyAlreadyRegistered"
    assert local_chain.neuron(hotkey).coldkey == cold
    assert local_chain.neuron(hotkey).role == Role.MINER


def test_serve_announces_an_address(local_chain):
    hotkey = _ss58()
    local_chain.register(hotkey=hotkey, coldkey=_ss58(), role=Role.MINER)
    local_chain.serve(hotkey=hotkey, address="127.0.0.1:8001")
    assert local_chain.neuron(hotkey).address == "127.0.0.1:8001"
    local_chain.serve(hotkey=hotkey, address="10.0.0.2:9000")
    assert local_chain.neuron(hotkey).address == "10.0.0.2:9000"


def test_stake_adds_up(local_chain):
    hotkey = _ss58()
    local_chain.register(hotkey=hotkey, coldkey=_ss58(), role=Role.VALIDATOR)
    local_chain.add_stake(hotkey=hotkey, amount=600)
    local_chain.add_stake(hotkey=hotkey, amount=400)
    assert local_chain.neuron(hotkey).stake == 1000


@pytest.mark.parametrize("amount", [0, -5])
def test_stake_must_be_positive(local_chain, amount):
    hotkey = _ss58()
    local_chain.register(hotkey=hotkey, coldkey=_ss58(), role=Role.VALIDATOR)
    with pytest.raises(ChainError) as info:
        local_chain.add_stake(hotkey=hotkey, amount=amount)
    assert info.value.name == "AmountTooLow"
    assert local_chain.neuron(hotkey).stake == 0


def test_unregistered_hotkey_cannot_serve_stake_or_set_weights(local_chain):
    stranger = _ss58()
    for call in (
        lambda: local_chain.serve(hotkey=stranger, address="h:1"),
        lambda: local_chain.add_stake(hotkey=stranger, amount=1),
        lambda: local_chain.set_weights(hotkey=stranger, weights={"x": 1.0}),
    ):
        with pytest.raises(NotRegistered) as info:
            call()
        assert info.value.name == "HotKeyNotRegistered"
    assert local_chain.neuron(stranger) is None


def test_set_weights_normalises(local_chain):
    validator = _ss58()
    local_chain.register(hotkey=validator, coldkey=_ss58(), role=Role.VALIDATOR)
    local_chain.set_weights(hotkey=validator, weights={"a": 1.0, "b": 3.0, "c": 0.0})
    row = LocalWeights.objects.get(validator_hotkey=validator)
    assert row.weights == {"a": 0.25, "b": 0.75, "c": 0.0}
    assert row.block == local_chain.current_block()


def test_set_weights_all_zero_is_kept_as_zero(local_chain):
    validator = _ss58()
    local_chain.register(hotkey=validator, coldkey=_ss58(), role=Role.VALIDATOR)
    local_chain.set_weights(hotkey=validator, weights={"a": 0.0, "b": 0.0})
    assert LocalWeights.objects.get(validator_hotkey=validator).weights == {"a": 0.0, "b": 0.0}


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf])
def test_set_weights_refuses_negative_or_non_finite(local_chain, bad):
    validator = _ss58()
    local_chain.register(hotkey=validator, coldkey=_ss58(), role=Role.VALIDATOR)
    with pytest.raises(ChainError) as info:
        local_chain.set_weights(hotkey=validator, weights={"a": 1.0, "b": bad})
    assert info.value.name == "InvalidWeights"
    assert not LocalWeights.objects.exists()


def test_block_height_advances_with_time(settings):
    settings.LOCAL_CHAIN_BLOCK_SECONDS = 12.0
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        local_chain = LocalChain(netuid=7)
        assert local_chain.current_block() == 0
        assert LocalSubnet.objects.get(netuid=7).block_seconds == 12.0
    with time_machine.travel(start + timedelta(seconds=11.9), tick=False):
        assert local_chain.current_block() == 0
    with time_machine.travel(start + timedelta(seconds=120), tick=False):
        assert local_chain.current_block() == 10
        neuron = local_chain.register(hotkey=_ss58(), coldkey=_ss58(), role=Role.MINER)
    assert LocalChain(netuid=7).neurons()[0] == neuron
    from chain.models import LocalNeuron

    assert LocalNeuron.objects.get(hotkey=neuron.hotkey).registered_block == 10
    # The genesis is fixed once: another client (another node) computes the same height.
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert LocalChain(netuid=7).current_block() == 300


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_get_distinct_uids():
    LocalChain(netuid=9).current_block()  # the subnet exists before the race
    barrier = threading.Barrier(6)
    errors: list[Exception] = []

    def register() -> None:
        try:
            barrier.wait()
            LocalChain(netuid=9).register(hotkey=_ss58(), coldkey=_ss58(), role=Role.MINER)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=register) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(n.uid for n in LocalChain(netuid=9).neurons()) == list(range(6))
