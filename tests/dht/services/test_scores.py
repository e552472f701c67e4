"""Commit-reveal bookkeeping in Postgres: our own commit (saved, re-saved, marked revealed), the
frozen commits of every validator (first digest wins), and the reveal check — each validator's
verdict, the rows it leaves, and pairwise agreement between the valid reveals only."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from dht.models import OwnScoreCommit, ScoreReveal, ValidatorAgreement
from dht.policy.scores import agreement, scores_digest
from dht.policy.values import ScoreRevealValue
from dht.services.scores import (
    dht_commits_freeze,
    dht_own_commit_mark_revealed,
    dht_own_commit_save,
    dht_reveals_check,
)
from protocol.keys import Hotkey
from tests.dht.factories import OwnScoreCommitFactory, ScoreRevealFactory

pytestmark = pytest.mark.django_db

HOLDER = "5Holder"
EPOCH = 7
SALT = "ab" * 16


@pytest.fixture
def miners(make_hotkey: Callable[..., Hotkey]) -> list[str]:
    return [make_hotkey("ed25519").ss58 for _ in range(3)]


def revealed(scores: dict[str, float], *, epoch: int = EPOCH, salt: str = SALT) -> ScoreRevealValue:
    return ScoreRevealValue(epoch=epoch, salt=salt, scores=scores)


def committed(validator: str, scores: dict[str, float], *, salt: str = SALT) -> ScoreReveal:
    """The frozen commit of `validator` to `scores`."""
    return ScoreRevealFactory.create(
        holder=HOLDER, epoch=EPOCH, validator=validator, digest=scores_digest(salt=salt, scores=scores)
    )


def check(reveals: dict[str, ScoreRevealValue]) -> dict[str, str]:
    return dht_reveals_check(holder=HOLDER, epoch=EPOCH, reveals=reveals, digest=scores_digest)


def reveal_rows() -> dict[str, tuple[bool, str, dict[str, float] | None]]:
    return {r.validator: (r.valid, r.reason, r.scores) for r in ScoreReveal.objects.filter(holder=HOLDER, epoch=EPOCH)}


def test_our_commit_is_saved_and_a_recommit_replaces_it_unrevealed() -> None:
    dht_own_commit_save(holder=HOLDER, epoch=EPOCH, salt=SALT, scores={"5A": 1.0}, digest="d1")
    dht_own_commit_mark_revealed(holder=HOLDER, epoch=EPOCH)
    dht_own_commit_save(holder=HOLDER, epoch=EPOCH, salt="cd" * 16, scores={"5B": 2.0}, digest="d2")
    commit = OwnScoreCommit.objects.get(holder=HOLDER, epoch=EPOCH)
    assert (commit.salt, commit.scores, commit.digest, commit.revealed_at) == ("cd" * 16, {"5B": 2.0}, "d2", None)
    assert OwnScoreCommit.objects.count() == 1


def test_marking_revealed_touches_only_that_holders_epoch() -> None:
    mine: OwnScoreCommit = OwnScoreCommitFactory.create(holder=HOLDER, epoch=EPOCH)
    next_epoch: OwnScoreCommit = OwnScoreCommitFactory.create(holder=HOLDER, epoch=EPOCH + 1)
    other_holder: OwnScoreCommit = OwnScoreCommitFactory.create(holder="5Other", epoch=EPOCH)
    before = timezone.now()
    dht_own_commit_mark_revealed(holder=HOLDER, epoch=EPOCH)
    for commit in (mine, next_epoch, other_holder):
        commit.refresh_from_db()
    assert mine.revealed_at is not None
    assert before <= mine.revealed_at <= timezone.now()
    assert (next_epoch.revealed_at, other_holder.revealed_at) == (None, None)


def test_marking_revealed_without_a_commit_is_a_no_op() -> None:
    dht_own_commit_mark_revealed(holder=HOLDER, epoch=EPOCH)
    assert OwnScoreCommit.objects.count() == 0


def test_freezing_keeps_the_first_digest_seen_per_validator() -> None:
    assert dht_commits_freeze(holder=HOLDER, epoch=EPOCH, digests={"5V1": "a" * 64, "5V2": "b" * 64}) == 2
    # A later, different commit by 5V1 (it re-committed after seeing others) does not replace it.
    assert dht_commits_freeze(holder=HOLDER, epoch=EPOCH, digests={"5V1": "c" * 64, "5V3": "d" * 64}) == 1
    frozen = dict(ScoreReveal.objects.filter(holder=HOLDER, epoch=EPOCH).values_list("validator", "digest"))
    assert frozen == {"5V1": "a" * 64, "5V2": "b" * 64, "5V3": "d" * 64}
    assert dht_commits_freeze(holder=HOLDER, epoch=EPOCH, digests={}) == 0


def test_freezing_is_per_holder_and_epoch() -> None:
    dht_commits_freeze(holder=HOLDER, epoch=EPOCH, digests={"5V1": "a" * 64})
    assert dht_commits_freeze(holder=HOLDER, epoch=EPOCH + 1, digests={"5V1": "b" * 64}) == 1
    assert dht_commits_freeze(holder="5Other", epoch=EPOCH, digests={"5V1": "c" * 64}) == 1
    assert ScoreReveal.objects.get(holder=HOLDER, epoch=EPOCH, validator="5V1").digest == "a" * 64


def test_a_matching_reveal_is_ok_and_stored_valid(miners: list[str]) -> None:
    scores = {miners[0]: 1.0, miners[1]: 3.0}
    committed("5V1", scores)
    before = timezone.now()
    assert check({"5V1": revealed(scores)}) == {"5V1": "ok"}
    row = ScoreReveal.objects.get(holder=HOLDER, epoch=EPOCH, validator="5V1")
    assert (row.valid, row.reason, row.scores) == (True, "", scores)
    assert row.checked_at is not None
    assert before <= row.checked_at <= timezone.now() + timedelta(seconds=1)


def test_each_way_a_reveal_fails_has_its_verdict_and_row(miners: list[str]) -> None:
    honest, lied = {miners[0]: 1.0}, {miners[0]: 9.0}
    committed("5Honest", honest)
    committed("5Liar", honest)
    committed("5Silent", honest)
    committed("5OtherEpoch", honest)
    ScoreRevealFactory.create(holder=HOLDER, epoch=EPOCH, validator="5Blank", digest="")  # seen, but no digest
    verdicts = check(
        {
            "5Honest": revealed(honest),
            "5Liar": revealed(lied),
            "5OtherEpoch": revealed(honest, epoch=EPOCH + 1),
            "5Late": revealed(honest),  # never committed in the window
            "5Blank": revealed(honest),
        }
    )
    assert verdicts == {
        "5Honest": "ok",
        "5Liar": "reveal does not match the commit",
        "5OtherEpoch": "reveal for another epoch",
        "5Late": "no commit seen in the commit window",
        "5Blank": "no commit seen in the commit window",
        "5Silent": "committed but never revealed",
    }
    assert reveal_rows() == {
        "5Honest": (True, "", honest),
        "5Liar": (False, "reveal does not match the commit", lied),
        "5OtherEpoch": (False, "reveal for another epoch", honest),
        "5Late": (False, "no commit seen in the commit window", honest),
        "5Blank": (False, "no commit seen in the commit window", honest),
        "5Silent": (False, "committed but never revealed", None),
    }
    assert ScoreReveal.objects.filter(checked_at__isnull=True).count() == 0
    # The liar's row keeps the digest it committed to (what it is judged against).
    assert ScoreReveal.objects.get(validator="5Liar").digest == scores_digest(salt=SALT, scores=honest)


def test_a_reveal_with_the_wrong_salt_does_not_match(miners: list[str]) -> None:
    scores = {miners[0]: 1.0}
    committed("5V1", scores)
    assert check({"5V1": revealed(scores, salt="cd" * 16)}) == {"5V1": "reveal does not match the commit"}


def test_agreement_is_recorded_for_each_pair_of_valid_reveals_only(miners: list[str]) -> None:
    a, b, c = miners
    scores = {
        "5V1": {a: 1.0, b: 1.0},
        "5V3": {a: 1.0, b: 3.0},
        "5V2": {a: 1.0, c: 1.0},
        "5Liar": {a: 5.0},
    }
    for validator, mine in scores.items():
        committed(validator, mine if validator != "5Liar" else {b: 1.0})
    check({v: revealed(s) for v, s in scores.items()})
    rows = {
        (r.validator_a, r.validator_b): (r.agreement, r.miners)
        for r in ValidatorAgreement.objects.filter(holder=HOLDER, epoch=EPOCH)
    }
    assert rows == {
        ("5V1", "5V2"): agreement(scores["5V1"], scores["5V2"]),
        ("5V1", "5V3"): agreement(scores["5V1"], scores["5V3"]),
        ("5V2", "5V3"): agreement(scores["5V2"], scores["5V3"]),
    }
    assert rows[("5V1", "5V2")] == (0.5, 3)
    assert rows[("5V1", "5V3")] == (0.75, 2)


def test_a_second_check_updates_the_rows_instead_of_adding_more(miners: list[str]) -> None:
    one, other = {miners[0]: 1.0}, {miners[1]: 1.0}
    committed("5V1", one)
    committed("5V2", one)
    check({"5V1": revealed(one), "5V2": revealed(other)})
    assert not ValidatorAgreement.objects.exists()  # 5V2 did not match: no pair yet
    # A later check that sees 5V2's reveal missing marks it never revealed, 5V1 still ok.
    assert check({"5V1": revealed(one)}) == {"5V1": "ok", "5V2": "committed but never revealed"}
    assert ScoreReveal.objects.filter(holder=HOLDER, epoch=EPOCH).count() == 2
    assert reveal_rows()["5V2"] == (False, "committed but never revealed", other)
    check({"5V1": revealed(one), "5V2": revealed(one)})
    check({"5V1": revealed(one), "5V2": revealed(one)})
    assert list(ValidatorAgreement.objects.values_list("validator_a", "validator_b", "agreement", "miners")) == [
        ("5V1", "5V2", 1.0, 1)
    ]


def test_a_check_with_nothing_committed_or_revealed_is_empty() -> None:
    assert check({}) == {}
    assert not ScoreReveal.objects.exists()
    assert not ValidatorAgreement.objects.exists()


def test_another_holders_frozen_commits_are_not_judged(miners: list[str]) -> None:
    scores = {miners[0]: 1.0}
    ScoreRevealFactory.create(
        holder="5Other", epoch=EPOCH, validator="5V1", digest=scores_digest(salt=SALT, scores=scores)
    )
    assert check({"5V1": revealed(scores)}) == {"5V1": "no commit seen in the commit window"}
    assert ScoreReveal.objects.get(holder="5Other").valid is False
    assert ScoreReveal.objects.get(holder="5Other").checked_at is None
