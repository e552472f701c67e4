"""Weights on chain every cycle (validator/services/weights.py), against LocalChain."""

import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from chain.interface import ChainUnavailable, Role
from chain.local import LocalChain
from chain.models import LocalSubnet, LocalWeights, WeightCommit
from chain.tasks import reveal_weights
from protocol.keys import hotkey_create
from validator.models import ScoringCycle, WeightSubmission
from validator.services.weights import weights_submit_due
from validator.tasks import submit_weights

pytestmark = pytest.mark.django_db
Status = WeightSubmission.Status


def _ss58() -> str:
    return hotkey_create()[0].ss58


@pytest.fixture
def chain_rules(settings):
    """Tempo 10, one epoch to the reveal, weights every 5 blocks; commit-reveal off unless a test turns it on."""
    settings.CHAIN, settings.CHAIN_NETUID = "local", 1
    settings.LOCAL_CHAIN_BLOCK_SECONDS = 1.0
    settings.LOCAL_CHAIN_TEMPO = 10
    settings.LOCAL_CHAIN_REVEAL_PERIOD = 1
    settings.LOCAL_CHAIN_WEIGHTS_RATE_LIMIT = 5
    settings.LOCAL_CHAIN_COMMIT_REVEAL = False
    settings.VALIDATOR_WEIGHTS_ENABLED = True
    return settings


@pytest.fixture
def clock():
    """`at(block)`: travel to that block of a subnet created at the start of the test."""
    genesis = timezone.now()

    def at(block: float):
        return time_machine.travel(genesis + timedelta(seconds=block + 0.5), tick=False)

    return at


@pytest.fixture
def subnet(chain_rules, clock, node_key):
    """The node's hotkey is a validator; two miners to weigh."""
    with clock(0):
        chain = LocalChain()
        chain.register(hotkey=node_key.ss58, coldkey=_ss58(), role=Role.VALIDATOR)
        miners = [_ss58(), _ss58()]
        for hotkey in miners:
            chain.register(hotkey=hotkey, coldkey=_ss58(), role=Role.MINER)
    return chain, miners


def _submission(number: int, values: dict[str, float], **fields) -> WeightSubmission:
    now = timezone.now()
    cycle = ScoringCycle.objects.create(number=number, window_start=now - timedelta(minutes=5), window_end=now)
    return WeightSubmission.objects.create(cycle=cycle, values=values, **fields)


class Flaky(LocalChain):
    """LocalChain whose node is unreachable for the first `down` plans."""

    def __init__(self, down: int) -> None:
        super().__init__()
        self.down = down

    def weights_plan(self, **kwargs):
        if self.down:
            self.down -= 1
            raise ChainUnavailable("connection refused by 127.0.0.1:9944", name="Unavailable")
        return super().weights_plan(**kwargs)


def test_weights_are_set_directly_without_commit_reveal(subnet, clock, node_key):
    chain, (a, b) = subnet
    sub = _submission(7, {a: 0.75, b: 0.25})
    with clock(3):
        tick = weights_submit_due(client=chain)
    assert tick.submitted == {7: Status.SET}
    sub.refresh_from_db()
    assert (sub.status, sub.block, sub.commit_hash, sub.attempts, sub.reason) == (Status.SET, 3, "", 1, "")
    assert LocalWeights.objects.get(validator_hotkey=node_key.ss58).weights == pytest.approx({a: 0.75, b: 0.25}, 1e-4)
    with clock(4):
        assert weights_submit_due(client=chain).submitted == {}  # nothing pending: nothing sent


def test_committed_then_revealed_by_the_reveal_task(subnet, clock, node_key):
    chain, (a, b) = subnet
    LocalSubnet.objects.filter(netuid=1).update(commit_reveal=True)
    sub = _submission(8, {a: 1.0, b: 3.0})
    with clock(2):
        assert weights_submit_due(client=chain).submitted == {8: Status.COMMITTED}
    sub.refresh_from_db()
    commit = WeightCommit.objects.get(hotkey=node_key.ss58)
    assert commit.reveal_from_block is not None
    assert (sub.status, sub.block, sub.commit_hash) == (Status.COMMITTED, 2, commit.commit_hash)
    assert commit.status == WeightCommit.Status.COMMITTED
    assert not LocalWeights.objects.exists()

    with clock(commit.reveal_from_block - 1):
        assert reveal_weights() == 0  # too early: the window is not open
        assert weights_submit_due(client=chain).revealed == []
    with clock(commit.reveal_from_block):
        assert reveal_weights() == 1
        tick = weights_submit_due(client=chain)
    assert tick.revealed == [8]
    sub.refresh_from_db()
    assert (sub.status, sub.block) == (Status.REVEALED, commit.reveal_from_block)
    stored = LocalWeights.objects.get(validator_hotkey=node_key.ss58)
    assert stored.weights == pytest.approx({a: 0.25, b: 0.75}, abs=1e-4)


def test_a_commit_whose_window_passed_is_skipped(subnet, clock, caplog):
    chain, (a, _) = subnet
    LocalSubnet.objects.filter(netuid=1).update(commit_reveal=True)
    sub = _submission(9, {a: 1.0})
    with clock(2):
        weights_submit_due(client=chain)
    commit = WeightCommit.objects.get()
    assert commit.reveal_until_block is not None
    with clock(commit.reveal_until_block + 1):
        reveal_weights()
        with caplog.at_level(logging.WARNING, logger="validator.services.weights"):
            tick = weights_submit_due(client=chain)
    sub.refresh_from_db()
    assert sub.status == Status.SKIPPED
    assert sub.reason == f"commit expired: reveal window ended at {commit.reveal_until_block}"
    assert tick.skipped == {9: sub.reason}
    assert "weights of cycle 9 skipped" in caplog.text


def test_an_unreachable_chain_leaves_it_pending_and_it_is_retried(subnet, clock, node_key):
    _, (a, _) = subnet
    sub = _submission(10, {a: 1.0})
    flaky = Flaky(down=1)
    with clock(3), pytest.raises(ChainUnavailable):
        weights_submit_due(client=flaky)
    sub.refresh_from_db()
    assert (sub.status, sub.attempts) == (Status.PENDING, 1)
    assert sub.reason == "Unavailable: connection refused by 127.0.0.1:9944"
    with clock(4):
        assert weights_submit_due(client=flaky).submitted == {10: Status.SET}
    sub.refresh_from_db()
    assert (sub.status, sub.attempts, sub.reason, sub.block) == (Status.SET, 2, "", 4)


def test_a_rate_limited_submission_waits_for_the_next_tick(subnet, clock):
    chain, (a, b) = subnet
    _submission(11, {a: 1.0})
    with clock(1):
        weights_submit_due(client=chain)
    sub = _submission(12, {b: 1.0})
    with clock(3):
        tick = weights_submit_due(client=chain)
    sub.refresh_from_db()
    assert (sub.status, sub.attempts) == (Status.PENDING, 1)
    assert sub.reason.startswith("SettingWeightsTooFast: ")
    assert tick.pending == {12: sub.reason}
    with clock(6):
        weights_submit_due(client=chain)
    sub.refresh_from_db()
    assert (sub.status, sub.block) == (Status.SET, 6)


def test_a_refusal_skips_it_with_the_runtime_error(chain_rules, clock, node_key, caplog):
    with clock(0):
        chain = LocalChain()  # the node's hotkey was never registered
    sub = _submission(13, {_ss58(): 1.0})
    with clock(1), caplog.at_level(logging.WARNING, logger="validator.services.weights"):
        weights_submit_due(client=chain)
    sub.refresh_from_db()
    assert sub.status == Status.SKIPPED
    assert sub.reason.startswith("HotKeyNotRegistered: ")
    assert f"weights of cycle 13 skipped: {sub.reason}" in caplog.text


def test_an_older_pending_cycle_is_superseded_by_the_newer(subnet, clock, node_key):
    chain, (a, b) = subnet
    old = _submission(20, {a: 1.0}, attempts=2, reason="Unavailable: timed out")
    older = _submission(19, {a: 1.0})
    new = _submission(21, {b: 1.0})
    with clock(2):
        tick = weights_submit_due(client=chain)
    for row in (old, older, new):
        row.refresh_from_db()
    assert (old.status, old.reason) == (Status.SKIPPED, "superseded by cycle 21; last error: Unavailable: timed out")
    assert (older.status, older.reason) == (Status.SKIPPED, "superseded by cycle 21; last error: none")
    assert new.status == Status.SET
    assert set(tick.skipped) == {19, 20}
    assert LocalWeights.objects.get(validator_hotkey=node_key.ss58).weights == {b: 1.0}


def test_no_scores_or_weights_disabled_are_skipped(chain_rules, subnet, clock):
    chain, (a, _) = subnet
    empty = _submission(30, {})
    with clock(1):
        weights_submit_due(client=chain)
    empty.refresh_from_db()
    assert (empty.status, empty.reason) == (Status.SKIPPED, "no scores")
    chain_rules.VALIDATOR_WEIGHTS_ENABLED = False
    off = _submission(31, {a: 1.0})
    with clock(2):
        weights_submit_due(client=chain)
    off.refresh_from_db()
    assert (off.status, off.reason, off.attempts) == (Status.SKIPPED, "weights disabled", 0)
    assert not LocalWeights.objects.exists()


def test_the_task_submits_through_the_configured_chain(subnet, clock):
    _, (a, _) = subnet
    _submission(40, {a: 1.0})
    with clock(2):
        result = submit_weights()
    assert result["submitted"] == {40: Status.SET}
    assert WeightSubmission.objects.get().status == Status.SET
