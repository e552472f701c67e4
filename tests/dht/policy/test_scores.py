"""The rules of commit-reveal: agreement between two validators' scores, the epoch schedule and
the commit digest."""

import pytest

from dht.engine.codec import CodecError
from dht.policy.scores import EpochSchedule, Phase, agreement, scores_digest


def test_agreement_is_one_minus_total_variation():
    assert agreement({"a": 1, "b": 1}, {"a": 2, "b": 2}) == (1.0, 2)
    assert agreement({"a": 1}, {"b": 1}) == (0.0, 2)
    assert agreement({"a": 3, "b": 1}, {"a": 1, "b": 1}) == (0.75, 2)


def test_agreement_of_empty_or_zero_vectors():
    assert agreement({}, {}) == (1.0, 0)
    assert agreement({"a": 0.0}, {"a": 0.0}) == (1.0, 1)
    assert agreement({"a": 0.0}, {"a": 1.0}) == (0.0, 1)


def test_schedule_windows():
    schedule = EpochSchedule(epoch_blocks=100, commit_fraction=0.5, reveal_fraction=0.75)
    assert schedule.phase(712) == Phase(epoch=7, fraction=0.12)
    assert schedule.in_commit(schedule.phase(749))
    assert not schedule.in_commit(schedule.phase(750))
    assert schedule.in_reveal(schedule.phase(750))
    assert not schedule.in_reveal(schedule.phase(775))


def test_digest_binds_salt_and_scores_and_refuses_non_finite_scores():
    salt = "ab" * 16
    digest = scores_digest(salt=salt, scores={"m": 1.0})
    assert len(digest) == 64
    assert scores_digest(salt=salt, scores={"m": 1.0}) == digest
    assert scores_digest(salt="cd" * 16, scores={"m": 1.0}) != digest
    assert scores_digest(salt=salt, scores={"m": 2.0}) != digest
    with pytest.raises(CodecError):
        scores_digest(salt=salt, scores={"m": float("nan")})
