"""Seeded matrices whose every row of A and column of B can be generated on its own.

Each row of A and each column of B is its own counter-based Philox4x64 stream: the key is the
128-bit seed (two little-endian uint64), the counter is (0, index, matrix, 0) and the stream only
advances the first word (n / 4 < 2^64 blocks), so no two rows or columns ever share a block. The
top 24 bits of each raw uint64 become an exact float32 in [-0.5, 0.5): no numpy float conversion is
involved, so numpy 1.24 (the image) and 2.x (the validator) produce the same bits. The entries are
independent uniform values: no Hankel/Toeplitz structure, nothing like PRNG(s + i + j)."""

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

SEED_BYTES = 16
_MATRIX_ID = {"A": 1, "B": 2}
_SCALE = np.float32(2.0**-24)


def _key(seed: bytes) -> NDArray[Any]:
    if len(seed) != SEED_BYTES:
        raise ValueError(f"seed must be {SEED_BYTES} bytes, got {len(seed)}")
    return np.frombuffer(seed, dtype="<u8").astype(np.uint64)


def _stream(*, key: NDArray[Any], matrix: int, index: int, n: int) -> NDArray[Any]:
    counter = np.array([0, index, matrix, 0], dtype=np.uint64)
    raw = np.random.Philox(key=key, counter=counter).random_raw(n)
    top = (np.asarray(raw, dtype=np.uint64) >> np.uint64(40)).astype(np.int64) - (1 << 23)
    # |top| < 2^23 is exact in float32 and the scale is a power of two: the result is exact.
    return top.astype(np.float32) * _SCALE


def matrix_rows(*, seed: bytes, which: Literal["A", "B"], indices: Sequence[int], n: int) -> NDArray[Any]:
    """Rows of A (which="A") or COLUMNS of B (which="B"), float32, shape (len(indices), n)."""
    if n < 1:
        raise ValueError("n must be positive")
    key = _key(seed)
    matrix = _MATRIX_ID[which]
    out = np.empty((len(indices), n), dtype=np.float32)
    for row, index in enumerate(indices):
        if not 0 <= index < n:
            raise ValueError(f"index {index} outside 0..{n - 1}")
        out[row] = _stream(key=key, matrix=matrix, index=int(index), n=n)
    return out
