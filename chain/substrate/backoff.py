"""Exponential backoff with equal jitter, capped: the same policy for RPC retries and metagraph syncs."""

import random


def backoff_delay(attempt: int, *, base_s: float, cap_s: float) -> float:
    """Seconds before retry `attempt` (1-based): uniform between half and all of min(cap, base * 2^(n-1))."""
    ceiling = min(cap_s, base_s * (2 ** max(0, attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)
