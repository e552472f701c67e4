"""The proof-of-work benchmark, validator side (the hashing lives in `hashwork`).

Solving costs about count × 2^difficulty SHA-256 hashes; checking costs `count` hashes. The
challenge is bound to the validator's fresh secret, the miner, the executor and the cycle, so an
answer cannot be precomputed, shared between executors or replayed in another cycle."""

from collections.abc import Sequence

from protocol.benchmarks.hashwork import CHALLENGE_BYTES, NONCE_LIMIT, pow_challenge, pow_meets, pow_solve
from protocol.messages.benchmarks import CheckReason

__all__ = ["pow_challenge", "pow_check", "pow_solve"]


def pow_check(*, challenge: bytes, difficulty: int, count: int, nonces: Sequence[int]) -> tuple[CheckReason, str]:
    if len(challenge) != CHALLENGE_BYTES or not 1 <= difficulty <= 64:
        raise ValueError("bad challenge or difficulty")
    if len(nonces) != count:
        return CheckReason.MALFORMED, f"{len(nonces)} nonces, expected {count}"
    for i, nonce in enumerate(nonces):
        if not 0 <= nonce < NONCE_LIMIT:
            return CheckReason.MALFORMED, f"nonce {i} outside 0..2^64-1"
        if not pow_meets(challenge=challenge, i=i, nonce=nonce, difficulty=difficulty):
            return CheckReason.WRONG_ANSWER, f"nonce {i} has fewer than {difficulty} leading zero bits"
    return CheckReason.PASSED, f"{count} solutions of {difficulty} bits"
