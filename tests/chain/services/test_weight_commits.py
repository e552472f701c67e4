"""Setting weights and commit-reveal's state in Postgres (chain/services/weight_commits.py), against
a scripted commit-reveal chain: the client only sends and reads, the service keeps the state."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chain.interface import (
    ChainError,
    ChainUnavailable,
    CommitRevealChain,
    CommitWindow,
    Metagraph,
    Neuron,
    RateLimited,
    Role,
    WeightsPlan,
)
from chain.models import WeightCommit
from chain.services import weight_commits
from chain.services.weight_commits import weight_commits_reveal, weights_set
from chain.substrate.weights import commit_hash
from tests.chain.factories import WeightCommitFactory
from tests.chain.scripted import ScriptedChain

pytestmark = pytest.mark.django_db
VALIDATOR = "5Validator"
SALT = [9, 8, 7, 6, 5, 4, 3, 2]
Status = WeightCommit.Status


class CommitRevealScripted(CommitRevealChain):
    name = "subtensor"
    synced = True
    netuid = 1

    def __init__(self, *, commit_reveal: bool = True, block: int = 1000) -> None:
        self.commit_reveal = commit_reveal
        self.block = block
        self.on_chain: list[CommitWindow] = []
        self.sent: list[tuple[str, object]] = []
        self.commit_error: ChainError | None = None
        self.reveal_error: ChainError | None = None
        self.stored_before_commit: list[WeightCommit] = []

    def weights_plan(self, *, hotkey: str, weights: dict[str, float]) -> WeightsPlan:
        return WeightsPlan(hotkey=hotkey, uid=0, account=b"\x01" * 32, uids=[1], values=[65535], version_key=7,
                           commit_reveal=self.commit_reveal, rate_limit=100)  # fmt: skip

    def weights_send(self, plan: WeightsPlan) -> None:
        self.sent.append(("set_weights", plan))

    def weights_commit(self, plan: WeightsPlan, *, commit_hash: str) -> None:
        self.stored_before_commit = list(WeightCommit.objects.all())
        if self.commit_error:
            raise self.commit_error
        self.sent.append(("commit_weights", commit_hash))
        self.on_chain.append(CommitWindow(commit_hash, self.block, self.block + 360, self.block + 720))

    def weights_commits(self, *, hotkey: str) -> list[CommitWindow]:
        return list(self.on_chain)

    def weights_reveal(self, *, hotkey: str, uids: list[int], values: list[int], salt: list[int],
                       version_key: int) -> None:  # fmt: skip
        if self.reveal_error:
            raise self.reveal_error
        self.sent.append(("reveal_weights", (hotkey, uids, values, salt, version_key)))

    def current_block(self) -> int:
        return self.block

    def block_seconds(self) -> float:
        return 12.0

    def fetch_metagraph(self) -> Metagraph:
        return Metagraph(netuid=1, block=self.block, tempo=360, neurons=[])

    def register(self, *, hotkey: str, coldkey: str, role: Role) -> Neuron:
        raise NotImplementedError

    def serve(self, *, hotkey: str, address: str) -> None:
        raise NotImplementedError

    def add_stake(self, *, hotkey: str, amount: int) -> None:
        raise NotImplementedError

    def set_weights(self, *, hotkey: str, weights: dict[str, float]) -> None:
        raise AssertionError("the service plans and sends step by step")


@pytest.fixture(autouse=True)
def fixed_salt(monkeypatch):
    monkeypatch.setattr(weight_commits, "new_salt", lambda: list(SALT))


def test_a_chain_without_commit_reveal_sets_weights_directly():
    plain = ScriptedChain()
    weights_set(client=plain, hotkey=VALIDATOR, weights={"5Miner": 1.0})
    assert plain.writes == [("set_weights", {"hotkey": VALIDATOR, "weights": {"5Miner": 1.0}})]
    off = CommitRevealScripted(commit_reveal=False)
    weights_set(client=off, hotkey=VALIDATOR, weights={"5Miner": 1.0})
    assert [kind for kind, _ in off.sent] == ["set_weights"]
    assert not WeightCommit.objects.exists()
    assert weight_commits_reveal(client=plain) == 0


def test_the_salt_is_stored_before_the_commit_is_sent_and_the_window_recorded():
    chain = CommitRevealScripted()
    weights_set(client=chain, hotkey=VALIDATOR, weights={"5Miner": 1.0})
    digest = commit_hash(account=b"\x01" * 32, netuid=1, uids=[1], values=[65535], salt=SALT, version_key=7)
    assert chain.sent == [("commit_weights", digest)]
    assert [(r.commit_hash, r.salt, r.status) for r in chain.stored_before_commit] == [(digest, SALT, "committing")]
    row = WeightCommit.objects.get()
    assert (row.status, row.commit_block, row.reveal_from_block, row.reveal_until_block) == (
        Status.COMMITTED,
        1000,
        1360,
        1720,
    )


def test_a_refused_commit_is_failed_and_raised_but_an_unknown_fate_stays_committing():
    chain = CommitRevealScripted()
    chain.commit_error = RateLimited("too fast", name="CommittingWeightsTooFast", retry_at_block=1100)
    with pytest.raises(RateLimited):
        weights_set(client=chain, hotkey=VALIDATOR, weights={"5Miner": 1.0})
    failed = WeightCommit.objects.get()
    assert (failed.status, failed.error) == (Status.FAILED, "CommittingWeightsTooFast: too fast")
    chain.commit_error = ChainUnavailable("ws://node: timed out", name="Unavailable")
    with pytest.raises(ChainUnavailable):
        weights_set(client=chain, hotkey=VALIDATOR, weights={"5Miner": 1.0})
    assert WeightCommit.objects.exclude(pk=failed.pk).get().status == Status.COMMITTING


def test_reveal_waits_for_the_window_then_reveals_once():
    chain = CommitRevealScripted()
    weights_set(client=chain, hotkey=VALIDATOR, weights={"5Miner": 1.0})
    assert weight_commits_reveal(client=chain) == 0  # block 1000 < 1360
    chain.block = 1400
    assert weight_commits_reveal(client=chain) == 1
    row = WeightCommit.objects.get()
    assert (row.status, row.revealed_block) == (Status.REVEALED, 1400)
    assert chain.sent[-1] == ("reveal_weights", (VALIDATOR, [1], [65535], SALT, 7))
    assert weight_commits_reveal(client=chain) == 0  # nothing pending any more


def test_nothing_pending_means_no_chain_round_trip():
    chain = CommitRevealScripted()
    WeightCommitFactory.create(chain="subtensor", status=Status.REVEALED)
    chain.weights_commits = None  # type: ignore[assignment,method-assign]  # would fail if called
    assert weight_commits_reveal(client=chain) == 0


def test_a_passed_window_expires_and_a_transient_failure_is_retried_next_round():
    chain = CommitRevealScripted(block=2000)
    late = WeightCommitFactory.create(hotkey=VALIDATOR, reveal_from_block=1360, reveal_until_block=1720)
    due = WeightCommitFactory.create(hotkey=VALIDATOR, reveal_from_block=1900, reveal_until_block=2300)
    chain.reveal_error = RateLimited("too early", name="RevealTooEarly")
    assert weight_commits_reveal(client=chain) == 0
    late.refresh_from_db()
    due.refresh_from_db()
    assert (late.status, late.error) == (Status.EXPIRED, "reveal window ended at 1720")
    assert (due.status, due.error) == (Status.COMMITTED, "RevealTooEarly: too early")
    chain.reveal_error = None
    assert weight_commits_reveal(client=chain) == 1


def test_a_refused_reveal_fails_and_is_logged(caplog):
    chain = CommitRevealScripted(block=1400)
    row = WeightCommitFactory.create(hotkey=VALIDATOR)
    chain.reveal_error = ChainError("no key", name="NoSigningKey")
    assert weight_commits_reveal(client=chain) == 0
    row.refresh_from_db()
    assert (row.status, row.error) == (Status.FAILED, "NoSigningKey: no key")
    assert f"reveal of {row.commit_hash} by {VALIDATOR} failed: NoSigningKey" in caplog.text


def test_an_unconfirmed_commit_is_confirmed_from_the_chain_or_failed_after_the_grace():
    chain = CommitRevealScripted(block=1100)
    found = WeightCommitFactory.create(status=Status.COMMITTING, commit_block=None, reveal_from_block=None,
                                reveal_until_block=None)  # fmt: skip
    lost = WeightCommitFactory.create(status=Status.COMMITTING, commit_block=None, reveal_from_block=None,
                               reveal_until_block=None)  # fmt: skip
    WeightCommit.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    chain.on_chain = [CommitWindow(found.commit_hash, 1000, 1360, 1720)]
    assert weight_commits_reveal(client=chain) == 0
    found.refresh_from_db()
    lost.refresh_from_db()
    assert (found.status, found.reveal_from_block) == (Status.COMMITTED, 1360)
    assert (lost.status, lost.error) == (Status.FAILED, "the commit never appeared on chain")
