"""The periodic chain tasks: an unreachable node is retried with backoff, a refusal is logged."""

import logging
from dataclasses import dataclass, field

import pytest

from chain import tasks
from chain.interface import ChainError, ChainUnavailable


@dataclass
class RevealingChain:
    """Stands in for the chain behind `weight_commits_reveal`: fails with `errors` in turn, then
    reveals `revealed`."""

    errors: list[ChainError] = field(default_factory=list)
    revealed: int = 2
    name: str = "subtensor"
    netuid: int = 7
    calls: int = 0

    def reveal(self) -> int:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.revealed


@pytest.fixture
def revealing_chain(monkeypatch: pytest.MonkeyPatch) -> RevealingChain:
    fake = RevealingChain()
    monkeypatch.setattr(tasks, "chain_client", lambda: fake)
    monkeypatch.setattr(tasks, "weight_commits_reveal", lambda *, client: client.reveal())
    return fake


def test_the_retry_policy_backs_off_with_jitter_on_an_unreachable_node_only():
    task = tasks.reveal_weights
    keys = ("autoretry_for", "retry_backoff", "retry_jitter", "max_retries")
    assert {key: getattr(task, key) for key in keys} == {
        "autoretry_for": (ChainUnavailable,),
        "retry_backoff": True,
        "retry_jitter": True,
        "max_retries": 3,
    }
    assert 0 < getattr(task, "retry_backoff_max") <= 60  # noqa: B009 (set by the decorator, not typed on Task)


def test_only_the_metagraph_sync_is_acked_late():
    assert tasks.sync_metagraph.acks_late is True  # claimed and stored idempotently
    assert not tasks.reveal_weights.acks_late  # submits extrinsics: never run twice by redelivery


def test_a_reveal_that_cannot_reach_the_node_is_retried(revealing_chain, caplog):
    revealing_chain.errors = [ChainUnavailable("connection refused"), ChainUnavailable("timed out")]
    with caplog.at_level(logging.WARNING, logger="chain.tasks"):
        result = tasks.reveal_weights.apply()
    assert result.get() == 2
    assert revealing_chain.calls == 3
    warnings = [r for r in caplog.records if r.name == "chain.tasks"]
    assert len(warnings) == 2
    assert all("retrying" in r.getMessage() and "subnet 7" in r.getMessage() for r in warnings)


def test_a_reveal_that_never_reaches_the_node_fails_after_its_retries(revealing_chain):
    revealing_chain.errors = [ChainUnavailable("connection refused") for _ in range(10)]
    result = tasks.reveal_weights.apply()
    assert result.failed()
    assert isinstance(result.result, ChainUnavailable)
    assert revealing_chain.calls == 1 + 3  # the first try and max_retries


def test_a_refused_reveal_is_logged_as_an_error_and_not_retried(revealing_chain, caplog):
    revealing_chain.errors = [ChainError("no commit to reveal", name="NoWeightsCommitFound")]
    with caplog.at_level(logging.ERROR, logger="chain.tasks"):
        result = tasks.reveal_weights.apply()
    assert result.get() == 0
    assert revealing_chain.calls == 1
    [record] = [r for r in caplog.records if r.name == "chain.tasks"]
    assert record.levelno == logging.ERROR
    assert "NoWeightsCommitFound" in record.getMessage()
    assert "subnet 7" in record.getMessage()
    assert record.exc_info is not None


def test_a_refused_metagraph_read_is_logged_as_an_error(revealing_chain, monkeypatch, caplog):
    def refuse(**kwargs: object) -> None:
        raise ChainError("metadata mismatch", name="MalformedResponse")

    monkeypatch.setattr(tasks, "metagraph_sync", refuse)
    with caplog.at_level(logging.ERROR, logger="chain.tasks"):
        assert tasks.sync_metagraph.apply().get() is None
    [record] = [r for r in caplog.records if r.name == "chain.tasks"]
    assert record.levelno == logging.ERROR
    assert "MalformedResponse" in record.getMessage()
    assert "subtensor" in record.getMessage()


def test_an_unreachable_node_leaves_the_metagraph_to_the_services_backoff(revealing_chain, monkeypatch, caplog):
    calls = []

    def unreachable(**kwargs: object) -> None:
        calls.append(kwargs)
        raise ChainUnavailable("connection refused")

    monkeypatch.setattr(tasks, "metagraph_sync", unreachable)
    with caplog.at_level(logging.ERROR, logger="chain.tasks"):
        assert tasks.sync_metagraph.apply().get() is None
    assert len(calls) == 1  # no Celery retry: the service recorded the failure and its next try
    assert not [r for r in caplog.records if r.name == "chain.tasks"]
