"""The role apps' chain-reading periodic tasks (CHAIN_READ_TASK): one service call each, retried
with backoff and jitter while the chain is unreachable, acked late, a refusal not retried."""

from types import ModuleType

import pytest

from chain.interface import ChainError, ChainUnavailable
from miner import tasks as miner_tasks
from validator import tasks as validator_tasks

# (the tasks module, the task's name in it, the service it calls)
TASKS = [
    pytest.param(miner_tasks, "sync_validators", "validators_sync_from_chain", id="miner"),
    pytest.param(validator_tasks, "sync_miners", "miners_sync_from_chain", id="validator"),
]


@pytest.mark.parametrize(("module", "task_name", "service"), TASKS)
def test_the_sync_retries_with_backoff_and_jitter_and_is_acked_late(module: ModuleType, task_name, service):
    task = getattr(module, task_name)
    keys = ("autoretry_for", "retry_backoff", "retry_jitter", "max_retries", "acks_late")
    assert {key: getattr(task, key) for key in keys} == {
        "autoretry_for": (ChainUnavailable,),
        "retry_backoff": True,
        "retry_jitter": True,
        "max_retries": 3,
        "acks_late": True,
    }
    assert 0 < task.retry_backoff_max <= 10  # inside the beat interval


@pytest.mark.parametrize(("module", "task_name", "service"), TASKS)
def test_an_unreachable_chain_is_retried_until_it_answers(monkeypatch, module: ModuleType, task_name, service):
    answers: list[int | Exception] = [ChainUnavailable("refused"), ChainUnavailable("refused"), 4]

    def sync() -> int:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(module, service, sync)
    assert getattr(module, task_name).apply().get() == 4
    assert answers == []


@pytest.mark.parametrize(("module", "task_name", "service"), TASKS)
def test_a_refusal_is_not_retried_and_fails_the_task(monkeypatch, module: ModuleType, task_name, service):
    calls = []

    def sync() -> int:
        calls.append(1)
        raise ChainError("bad origin", name="BadOrigin")

    monkeypatch.setattr(module, service, sync)
    result = getattr(module, task_name).apply()
    assert result.failed()
    assert isinstance(result.result, ChainError)
    assert calls == [1]
