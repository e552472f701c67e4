"""Exponential backoff with full jitter, capped: the same policy for RPC retries and metagraph syncs."""

import random


def backoff_delay(attempt: int, *, base_s: float, cap_s: float) -> float:
    """Seconds to wait before retry number `attempt` (1-based): uniform in [0, min(cap, base * 2^(n-1))]."""
    ceiling = min(cap_s, base_s * (2 ** max(0, attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)
