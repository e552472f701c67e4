"""Fixtures of the fuzz tests (their budget is tests/fuzz/budget.py) and the end-of-run tally."""

import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis.configuration import set_hypothesis_home_dir

from tests.fuzz.budget import FUZZ_MAX_FRAME_BYTES, TALLIES

# Hypothesis caches what it learns (constants, unicode tables) under ./.hypothesis even without an
# example database: outside the repository, a run leaves nothing behind in it.
set_hypothesis_home_dir(
    Path(tempfile.gettempdir()) / f"meshwork-hypothesis-{os.environ.get('MESHWORK_TEST_ID', 'main')}"
)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for name, counts in sorted(TALLIES.items()):
        shown = ", ".join(f"{kind} {n}" for kind, n in counts.most_common())
        terminalreporter.write_line(f"fuzz {name}: {shown}")


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    """Every refused frame logs a warning: formatting 100,000 of them would be most of the run.
    Errors (a handler that raised) still show."""
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


@pytest.fixture
def fuzz_limits(settings: Any) -> None:
    """Limits a fuzzer would trip at once (every refused frame is a strike): raised so the frames
    reach the code under test. tests/fuzz/facilitator/test_limits.py shows the default limits ban such a peer."""
    settings.PROTOCOL_RATE_PER_S = 1e9
    settings.PROTOCOL_RATE_BURST = 10**9
    settings.PROTOCOL_PEER_RATE_PER_S = 1e9
    settings.PROTOCOL_PEER_RATE_BURST = 10**9
    settings.PROTOCOL_BAN_STRIKES = 10**12
    settings.PROTOCOL_MAX_FRAME_BYTES = FUZZ_MAX_FRAME_BYTES
