"""The proof-of-work benchmark's hashing: challenge, solutions, the target test.

challenge = HMAC-SHA256(secret, len|miner_hotkey | len|executor | len|cycle), each part prefixed
with its 4-byte big-endian length so no two (hotkey, executor, cycle) triples encode alike. Solution
i (0 ≤ i < count) is a nonce with sha256(challenge || i (1 byte) || nonce (8 bytes BE)) having at
least `difficulty` leading zero bits: each i is its own puzzle, so the nonces are distinct work by
construction."""

import hashlib
import hmac

CHALLENGE_BYTES = 32
MAX_COUNT = 256  # i is one byte
MAX_DIFFICULTY = 64
NONCE_LIMIT = 1 << 64


def _part(value: str) -> bytes:
    data = value.encode()
    return len(data).to_bytes(4, "big") + data


def pow_challenge(*, secret: bytes, miner_hotkey: str, executor: str, cycle: int) -> bytes:
    message = _part(miner_hotkey) + _part(executor) + _part(str(cycle))
    return hmac.new(secret, message, hashlib.sha256).digest()


def pow_meets(*, challenge: bytes, i: int, nonce: int, difficulty: int) -> bool:
    digest = hashlib.sha256(challenge + bytes((i,)) + nonce.to_bytes(8, "big")).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - difficulty) == 0


def _validate(*, challenge: bytes, difficulty: int, count: int) -> None:
    if len(challenge) != CHALLENGE_BYTES:
        raise ValueError(f"challenge must be {CHALLENGE_BYTES} bytes")
    if not 1 <= difficulty <= MAX_DIFFICULTY:
        raise ValueError(f"difficulty must be 1..{MAX_DIFFICULTY}")
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"count must be 1..{MAX_COUNT}")


def pow_solve(*, challenge: bytes, difficulty: int, count: int) -> list[int]:
    """The smallest qualifying nonce for each i; about count × 2^difficulty hashes."""
    _validate(challenge=challenge, difficulty=difficulty, count=count)
    shift = 64 - difficulty
    nonces = []
    for i in range(count):
        prefix = hashlib.sha256(challenge + bytes((i,)))  # hashed once, copied per attempt
        nonce = 0
        while True:
            attempt = prefix.copy()
            attempt.update(nonce.to_bytes(8, "big"))
            if int.from_bytes(attempt.digest()[:8], "big") >> shift == 0:
                break
            nonce += 1
        nonces.append(nonce)
    return nonces
