"""LocalChain: the chain kept in Postgres (chain/local.py)."""

import math
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from chain.interface import ChainError, CommitWindow, Neuron, NotRegistered, RateLimited, Role
from chain.local import LocalChain, reveal_window
from chain.models import LocalSubnet, LocalWeights
from chain.substrate.weights import commit_hash
from protocol.keys import hotkey_create, public_keypair

pytestmark = pytest.mark.django_db


def _ss58() -> str:
    return hotkey_create()[0].ss58


def hotkey_public(ss58: str) -> bytes:
    keypair = public_keypair(ss58, "sr25519")
    assert keypair is not None
    return bytes(keypair.public_key)


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


# --- commit-reveal, with subtensor's rules (tempo 10, reveal one epoch later, weights every 5 blocks)

CR_NETUID = 4


class ClockedChain(LocalChain):
    """A LocalChain whose `at(block)` travels to that block of its subnet."""

    def __init__(self, *, netuid: int, genesis: datetime) -> None:
        super().__init__(netuid=netuid)
        self.genesis = genesis

    def at(self, block: int) -> Any:
        return time_machine.travel(self.genesis + timedelta(seconds=block + 0.5), tick=False)


@pytest.fixture
def cr_chain(settings):
    """A commit-reveal subnet created at a fixed instant."""
    settings.LOCAL_CHAIN_BLOCK_SECONDS = 1.0
    settings.LOCAL_CHAIN_COMMIT_REVEAL = True
    settings.LOCAL_CHAIN_TEMPO = 10
    settings.LOCAL_CHAIN_REVEAL_PERIOD = 1
    settings.LOCAL_CHAIN_WEIGHTS_RATE_LIMIT = 5
    chain = ClockedChain(netuid=CR_NETUID, genesis=timezone.now())
    with chain.at(0):
        chain.current_block()  # the subnet is created with these rules
    LocalSubnet.objects.filter(netuid=CR_NETUID).update(genesis_at=chain.genesis)
    return chain


def _validator_and_miners(chain, miners=2):
    validator = _ss58()
    chain.register(hotkey=validator, coldkey=_ss58(), role=Role.VALIDATOR)
    targets = [_ss58() for _ in range(miners)]
    for hotkey in targets:
        chain.register(hotkey=hotkey, coldkey=_ss58(), role=Role.MINER)
    return validator, targets


def _commit(chain, validator, weights, salt=(1, 2, 3, 4, 5, 6, 7, 8)):
    plan = chain.weights_plan(hotkey=validator, weights=weights)
    digest = commit_hash(
        account=plan.account, netuid=chain.netuid, uids=plan.uids, values=plan.values, salt=list(salt), version_key=0
    )
    chain.weights_commit(plan, commit_hash=digest)
    return plan, digest, list(salt)


def _reveal(chain, hotkey, plan, salt):
    chain.weights_reveal(hotkey=hotkey, uids=plan.uids, values=plan.values, salt=salt, version_key=0)


@pytest.mark.parametrize(
    ("commit_block", "window"),
    [(0, (9, 19)), (5, (9, 19)), (8, (9, 19)), (9, (20, 30)), (20, (31, 41))],
)
def test_the_reveal_window_is_the_next_epoch_offset_by_the_netuid(commit_block, window):
    # subtensor: epoch = (block + netuid + 1) // (tempo + 1); reveal in epoch + reveal_period.
    assert reveal_window(netuid=1, tempo=10, reveal_period=1, commit_block=commit_block) == window


def test_commit_then_reveal_inside_the_window_sets_the_weights(cr_chain):
    with cr_chain.at(3):
        validator, (a, b) = _validator_and_miners(cr_chain)
        plan, digest, salt = _commit(cr_chain, validator, {a: 3.0, b: 1.0})
        assert plan.commit_reveal
        assert plan.rate_limit == 5
        first, last = reveal_window(netuid=CR_NETUID, tempo=10, reveal_period=1, commit_block=3)
        assert cr_chain.weights_commits(hotkey=validator) == [CommitWindow(digest, 3, first, last)]
        assert cr_chain.fetch_metagraph().tempo == 10
        assert cr_chain.fetch_metagraph().commit_reveal
    with cr_chain.at(first):
        _reveal(cr_chain, validator, plan, salt)
    row = LocalWeights.objects.get(validator_hotkey=validator)
    assert row.block == first
    assert row.weights == pytest.approx({a: 0.75, b: 0.25}, abs=1e-4)
    assert cr_chain.weights_commits(hotkey=validator) == []  # consumed
    with cr_chain.at(first + 1), pytest.raises(ChainError) as again:
        _reveal(cr_chain, validator, plan, salt)
    assert again.value.name == "NoWeightsCommitFound"


def test_a_reveal_before_the_window_is_too_early_and_after_it_expired(cr_chain):
    with cr_chain.at(1):
        validator, (a, _) = _validator_and_miners(cr_chain)
        plan, _, salt = _commit(cr_chain, validator, {a: 1.0})
    (window,) = cr_chain.weights_commits(hotkey=validator)
    with cr_chain.at(window.reveal_from_block - 1), pytest.raises(RateLimited) as early:
        _reveal(cr_chain, validator, plan, salt)
    assert (early.value.name, early.value.retry_at_block) == ("RevealTooEarly", window.reveal_from_block)
    with cr_chain.at(window.reveal_until_block + 1), pytest.raises(ChainError) as late:
        _reveal(cr_chain, validator, plan, salt)
    assert late.value.name == "ExpiredWeightCommit"
    assert not LocalWeights.objects.exists()


def test_a_wrong_salt_or_other_weights_do_not_match_the_hash(cr_chain):
    with cr_chain.at(1):
        validator, (a, b) = _validator_and_miners(cr_chain)
        plan, _, salt = _commit(cr_chain, validator, {a: 1.0, b: 1.0})
    (window,) = cr_chain.weights_commits(hotkey=validator)
    with cr_chain.at(window.reveal_from_block):
        for uids, values, wrong_salt in (
            (plan.uids, plan.values, [9, *salt[1:]]),
            (plan.uids, [65535, 1], salt),
        ):
            with pytest.raises(ChainError) as mismatch:
                cr_chain.weights_reveal(hotkey=validator, uids=uids, values=values, salt=wrong_salt, version_key=0)
            assert mismatch.value.name == "InvalidRevealCommitHashNotMatch"
        assert not LocalWeights.objects.exists()
        _reveal(cr_chain, validator, plan, salt)  # the commit is still there for the right one
    assert LocalWeights.objects.filter(validator_hotkey=validator).count() == 1


def test_another_hotkey_cannot_reveal_a_commit(cr_chain):
    with cr_chain.at(1):
        validator, (a, b) = _validator_and_miners(cr_chain)
        plan, _, salt = _commit(cr_chain, validator, {a: 1.0})
        _commit(cr_chain, b, {a: 1.0}, salt=[7] * 8)  # b holds a commit of its own
    (window,) = cr_chain.weights_commits(hotkey=validator)
    with cr_chain.at(window.reveal_from_block):
        # The hash covers the revealer's account: the same weights and salt from `a` or `b` match nothing.
        with pytest.raises(ChainError) as no_commit:
            _reveal(cr_chain, a, plan, salt)
        assert no_commit.value.name == "NoWeightsCommitFound"
        with pytest.raises(ChainError) as mismatch:
            _reveal(cr_chain, b, plan, salt)
        assert mismatch.value.name == "InvalidRevealCommitHashNotMatch"
        with pytest.raises(NotRegistered):
            _reveal(cr_chain, _ss58(), plan, salt)
    assert not LocalWeights.objects.exists()
    assert len(cr_chain.weights_commits(hotkey=validator)) == 1


def test_commits_are_rate_limited_per_hotkey(cr_chain):
    with cr_chain.at(2):
        validator, (a, b) = _validator_and_miners(cr_chain)
        _commit(cr_chain, validator, {a: 1.0})
        _commit(cr_chain, b, {a: 1.0})  # another hotkey has its own limit
    with cr_chain.at(6), pytest.raises(RateLimited) as too_fast:
        _commit(cr_chain, validator, {a: 2.0})
    assert (too_fast.value.name, too_fast.value.retry_at_block) == ("CommittingWeightsTooFast", 7)
    with cr_chain.at(7):
        _commit(cr_chain, validator, {a: 2.0})
    assert len(cr_chain.weights_commits(hotkey=validator)) == 2


def test_at_most_ten_unrevealed_commits(cr_chain):
    LocalSubnet.objects.filter(netuid=CR_NETUID).update(weights_rate_limit=0)
    with cr_chain.at(1):
        validator, (a, _) = _validator_and_miners(cr_chain)
        for salt in range(10):
            _commit(cr_chain, validator, {a: 1.0}, salt=[salt] * 8)
        with pytest.raises(RateLimited) as full:
            _commit(cr_chain, validator, {a: 1.0}, salt=[99] * 8)
    assert full.value.name == "TooManyUnrevealedCommits"


def test_commit_reveal_decides_which_calls_are_allowed(cr_chain):
    with cr_chain.at(1):
        validator, (a, _) = _validator_and_miners(cr_chain)
        plan = cr_chain.weights_plan(hotkey=validator, weights={a: 1.0})
        for call, name in (
            (lambda: cr_chain.set_weights(hotkey=validator, weights={a: 1.0}), "CommitRevealRequired"),
            (lambda: cr_chain.weights_send(plan), "CommitRevealEnabled"),
        ):
            with pytest.raises(ChainError) as refused:
                call()
            assert refused.value.name == name
        LocalSubnet.objects.filter(netuid=CR_NETUID).update(commit_reveal=False)
        with pytest.raises(ChainError) as disabled:
            cr_chain.weights_commit(plan, commit_hash="0x" + "00" * 32)
        assert disabled.value.name == "CommitRevealDisabled"
        cr_chain.weights_send(plan)
        with pytest.raises(RateLimited) as too_fast:
            cr_chain.weights_send(plan)
    assert (too_fast.value.name, too_fast.value.retry_at_block) == ("SettingWeightsTooFast", 6)
    assert LocalWeights.objects.get(validator_hotkey=validator).weights == {a: 1.0}


def test_a_plan_maps_hotkeys_to_uids_and_needs_a_positive_weight(cr_chain):
    with cr_chain.at(1):
        validator, (a, b) = _validator_and_miners(cr_chain)
        plan = cr_chain.weights_plan(hotkey=validator, weights={b: 1.0, a: 0.5, _ss58(): 9.0, "not-a-key": 1.0})
        assert (plan.uids, plan.values) == ([1, 2], [32768, 65535])
        assert plan.account == hotkey_public(validator)
        with pytest.raises(ChainError) as nothing:
            cr_chain.weights_plan(hotkey=validator, weights={a: 0.0})
        assert nothing.value.name == "InvalidWeights"
        with pytest.raises(NotRegistered):
            cr_chain.weights_plan(hotkey=_ss58(), weights={a: 1.0})


def test_rules_apply_gives_an_existing_subnet_the_current_settings(local_chain, settings):
    local_chain.current_block()  # created with the defaults: no commit-reveal
    assert not local_chain.fetch_metagraph().commit_reveal
    settings.LOCAL_CHAIN_COMMIT_REVEAL, settings.LOCAL_CHAIN_TEMPO = True, 60
    settings.LOCAL_CHAIN_REVEAL_PERIOD, settings.LOCAL_CHAIN_WEIGHTS_RATE_LIMIT = 2, 60
    local_chain.rules_apply()
    subnet = LocalSubnet.objects.get(netuid=local_chain.netuid)
    assert (subnet.commit_reveal, subnet.tempo, subnet.reveal_period, subnet.weights_rate_limit) == (True, 60, 2, 60)
    metagraph = local_chain.fetch_metagraph()
    assert (metagraph.tempo, metagraph.commit_reveal, metagraph.weights_rate_limit) == (60, True, 60)
