"""The miner's periodic validator sync: one service call, retried while the chain is unreachable."""

import pytest

from chain.interface import ChainError, ChainUnavailable
from miner import tasks


def test_the_sync_retries_with_backoff_and_jitter_and_is_acked_late():
    task = tasks.sync_validators
    keys = ("autoretry_for", "retry_backoff", "retry_jitter", "max_retries", "acks_late")
    assert {key: getattr(task, key) for key in keys} == {
        "autoretry_for": (ChainUnavailable,),
        "retry_backoff": True,
        "retry_jitter": True,
        "max_retries": 3,
        "acks_late": True,
    }
    assert 0 < getattr(task, "retry_backoff_max") <= 10  # noqa: B009 (inside the beat interval; not typed on Task)


def test_an_unreachable_chain_is_retried_until_it_answers(monkeypatch: pytest.MonkeyPatch):
    answers: list[int | Exception] = [ChainUnavailable("refused"), ChainUnavailable("refused"), 4]

    def sync() -> int:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(tasks, "validators_sync_from_chain", sync)
    assert tasks.sync_validators.apply().get() == 4
    assert answers == []


def test_a_refusal_is_not_retried_and_fails_the_task(monkeypatch: pytest.MonkeyPatch):
    calls = []

    def sync() -> int:
        calls.append(1)
        raise ChainError("bad origin", name="BadOrigin")

    monkeypatch.setattr(tasks, "validators_sync_from_chain", sync)
    result = tasks.sync_validators.apply()
    assert result.failed()
    assert isinstance(result.result, ChainError)
    assert calls == [1]
