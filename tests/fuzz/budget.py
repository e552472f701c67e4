"""How much to fuzz, from the environment, so CI runs a short pass and `make fuzz` the long one:
FUZZ_EXAMPLES frames per consumer (default 500; `make fuzz` 100000), drawn FUZZ_BATCH at a time
(one hypothesis example, one probe per batch), and SCHEMA_EXAMPLES requests per API operation
(default 4). Hypothesis keeps no example database: a run leaves no files behind
and every run explores afresh."""

import math
import os
from collections import Counter

from hypothesis import HealthCheck, settings

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
SCHEMA_EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", "4"))
FUZZ_BATCH = 8
# Small enough that an oversize frame is cheap to generate, large enough for any real message here.
FUZZ_MAX_FRAME_BYTES = 256 * 1024

fuzz_settings = settings(
    max_examples=math.ceil(FUZZ_EXAMPLES / FUZZ_BATCH),
    deadline=None,  # a shared, loaded machine: timing is not what is tested
    database=None,
    print_blob=True,
    # One link serves every example: the fixtures are meant to outlive them.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# What each fuzz test saw, by kind of answer: printed at the end of the run (tests/fuzz/conftest.py).
TALLIES: dict[str, Counter[str]] = {}


def tally(name: str) -> Counter[str]:
    return TALLIES.setdefault(name, Counter())
