"""The benchmark start limit: a sliding hour per validator hotkey."""

from typing import Any

import pytest

from miner.benchmarks.ratelimit import WINDOW_S, start_allowed, starts_forget


@pytest.fixture(autouse=True)
def fresh(settings: Any) -> None:
    settings.MINER_BENCH_MAX_STARTS_PER_HOUR = 2
    starts_forget()


def test_each_validator_gets_its_own_sliding_hour() -> None:
    assert start_allowed("v1", now=0.0)
    assert start_allowed("v1", now=10.0)
    assert not start_allowed("v1", now=20.0)  # a third within the hour
    assert start_allowed("v2", now=20.0)  # someone else's window
    assert start_allowed("v1", now=WINDOW_S + 1)  # the first start has left the window
    assert not start_allowed("v1", now=WINDOW_S + 2)


def test_a_refused_start_does_not_count() -> None:
    assert start_allowed("v", now=0.0)
    assert start_allowed("v", now=1.0)
    for t in range(2, 50):
        assert not start_allowed("v", now=float(t))
    assert start_allowed("v", now=WINDOW_S + 0.5)
