"""Fuzzing: bounded by the environment so CI runs a short pass and `make fuzz` the long one.

FUZZ_EXAMPLES frames per consumer (CI default 500; `make fuzz` 100000) and SCHEMA_EXAMPLES
requests per API operation (CI default 4). Hypothesis keeps no example database: a run leaves no
files behind and every run explores afresh."""

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
SCHEMA_EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", "4"))
# Small enough that an oversize frame is cheap to generate, large enough for any real message here.
FUZZ_MAX_FRAME_BYTES = 256 * 1024

fuzz_settings = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,  # a shared, loaded machine: timing is not what is tested
    database=None,
    derandomize=False,
    print_blob=True,
    # One link serves every example: the fixtures are meant to outlive them.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture
def fuzz_limits(settings: Any) -> None:
    """Limits a fuzzer would trip at once (every refused frame is a strike): raised so the frames
    reach the code under test. tests/fuzz/test_limits.py shows the default limits ban such a peer."""
    settings.PROTOCOL_RATE_PER_S = 1e9
    settings.PROTOCOL_RATE_BURST = 10**9
    settings.PROTOCOL_PEER_RATE_PER_S = 1e9
    settings.PROTOCOL_PEER_RATE_BURST = 10**9
    settings.PROTOCOL_BAN_STRIKES = 10**12
    settings.PROTOCOL_MAX_FRAME_BYTES = FUZZ_MAX_FRAME_BYTES
