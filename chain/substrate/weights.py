"""Weights as subtensor takes them: u16 values scaled so the largest is 65535, and commit hashes.

The commit hash is blake2b-256 over the SCALE encoding of (account, netuid: u16, uids: Vec<u16>,
values: Vec<u16>, salt: Vec<u16>, version_key: u64), which is what `reveal_weights` recomputes."""

import hashlib
import math
import secrets

from chain.interface import ChainError

U16_MAX = 65_535
SALT_WORDS = 8


def normalize_u16(weights: dict[int, float]) -> tuple[list[int], list[int]]:
    """uids (ascending) and u16 values, max-upscaled; zero weights are dropped."""
    for uid, weight in weights.items():
        if not 0 <= uid <= U16_MAX:
            raise ChainError(f"uid {uid} is not a u16", name="InvalidUid")
        if not math.isfinite(weight) or weight < 0:
            raise ChainError(
                f"weight for uid {uid} is {weight}: weights must be finite and >= 0", name="InvalidWeights"
            )
    top = max(weights.values(), default=0.0)
    if top <= 0:
        raise ChainError("no positive weight to set", name="InvalidWeights")
    scaled = {uid: round(weight / top * U16_MAX) for uid, weight in weights.items()}
    uids = sorted(uid for uid, value in scaled.items() if value > 0)
    return uids, [scaled[uid] for uid in uids]


def new_salt() -> list[int]:
    return [secrets.randbelow(U16_MAX + 1) for _ in range(SALT_WORDS)]


def commit_hash(
    *, account: bytes, netuid: int, uids: list[int], values: list[int], salt: list[int], version_key: int
) -> str:
    payload = (
        account
        + netuid.to_bytes(2, "little")
        + _vec_u16(uids)
        + _vec_u16(values)
        + _vec_u16(salt)
        + version_key.to_bytes(8, "little")
    )
    return "0x" + hashlib.blake2b(payload, digest_size=32).hexdigest()


def _vec_u16(items: list[int]) -> bytes:
    return compact(len(items)) + b"".join(i.to_bytes(2, "little") for i in items)


def compact(n: int) -> bytes:
    """SCALE compact encoding of a non-negative integer."""
    if n < 1 << 6:
        return (n << 2).to_bytes(1, "little")
    if n < 1 << 14:
        return ((n << 2) | 1).to_bytes(2, "little")
    if n < 1 << 30:
        return ((n << 2) | 2).to_bytes(4, "little")
    body = n.to_bytes((n.bit_length() + 7) // 8, "little")
    return bytes([((len(body) - 4) << 2) | 3]) + body
