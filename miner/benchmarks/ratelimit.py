"""How often each validator may start benchmarks on this miner: a sliding hour per hotkey, kept in
the process (one daphne process serves every validator link), so reconnecting does not reset it."""

import time
from collections import defaultdict, deque

from protocol.tunables import tunable

WINDOW_S = 3600.0
_starts: dict[str, deque[float]] = defaultdict(deque)


def start_allowed(validator_hotkey: str, *, now: float | None = None) -> bool:
    """Counts the start when it is allowed."""
    now = time.monotonic() if now is None else now
    starts = _starts[validator_hotkey]
    while starts and starts[0] <= now - WINDOW_S:
        starts.popleft()
    if len(starts) >= tunable("MINER_BENCH_MAX_STARTS_PER_HOUR"):
        return False
    starts.append(now)
    return True


def starts_forget() -> None:
    """Tests: a fresh window for everyone."""
    _starts.clear()
