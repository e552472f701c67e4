"""Seeded matrices whose every row of A and column of B can be generated on its own.

Each row of A and each column of B is its own counter-based Philox4x64 stream: the key is the
128-bit seed (two little-endian uint64), the counter is (0, index, matrix, 0) and the stream only
advances the first word (n / 8 < 2^64 blocks), so no two rows or columns ever share a block. Each
raw uint64 w gives two entries: bits 63..40 then bits 39..16, each read as a signed 24-bit integer
s and scaled to s · 2^-24, an exact float32 in [-0.5, 0.5) (the low 16 bits are dropped). Only
integer shifts and exact float32 operations touch the raw words, so numpy 1.24 (the image) and 2.x
(the validator) produce the same bits. The entries are independent uniform values: no
Hankel/Toeplitz structure, nothing like PRNG(s + i + j).

One Philox object serves every row of a call: it is re-keyed by setting its counter (a state
assignment costs ~1 µs, a new object ~6 µs), and the words of a chunk of rows are converted
together."""

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

SEED_BYTES = 16
_MATRIX_ID = {"A": 1, "B": 2}
_SCALE = np.float32(2.0**-24)
_CHUNK_WORDS = 1 << 18  # raw words converted at once: 2 MiB, so a chunk stays in cache


def _key(seed: bytes) -> NDArray[Any]:
    if len(seed) != SEED_BYTES:
        raise ValueError(f"seed must be {SEED_BYTES} bytes, got {len(seed)}")
    return np.frombuffer(seed, dtype="<u8").astype(np.uint64)


def _to_entries(raw: NDArray[Any], out: NDArray[Any]) -> None:
    """Two exact float32 entries per raw word, in order, into out (rows × 2·words)."""
    # Arithmetic right shifts of the signed view sign-extend each 24-bit field; the left shift
    # that brings bits 39..16 to the top is done unsigned (no signed overflow anywhere), in place.
    out[:, 0::2] = raw.view(np.int64) >> 40
    second = np.left_shift(raw, 24, out=np.empty_like(raw)).view(np.int64)
    second >>= 40
    out[:, 1::2] = second
    out *= _SCALE  # |s| ≤ 2^23 is exact in float32 and the scale is a power of two


def matrix_rows(*, seed: bytes, which: Literal["A", "B"], indices: Sequence[int], n: int) -> NDArray[Any]:
    """Rows of A (which="A") or COLUMNS of B (which="B"), float32, shape (len(indices), n)."""
    if n < 1:
        raise ValueError("n must be positive")
    for index in indices:
        if not 0 <= index < n:
            raise ValueError(f"index {index} outside 0..{n - 1}")
    words = (n + 1) // 2
    generator = np.random.Philox(key=_key(seed))
    state = generator.state
    counter = np.array([0, 0, _MATRIX_ID[which], 0], dtype=np.uint64)
    state["state"]["counter"] = counter
    chunk = max(1, _CHUNK_WORDS // words)
    raw = np.empty((min(chunk, len(indices)), words), dtype=np.uint64)
    entries = np.empty((len(indices), 2 * words), dtype=np.float32)
    for start in range(0, len(indices), chunk):
        block = indices[start : start + chunk]
        for row, index in enumerate(block):
            counter[1] = index
            state["buffer_pos"] = 4  # drop any buffered words: the row starts at its own block
            generator.state = state
            raw[row] = generator.random_raw(words)
        _to_entries(raw[: len(block)], entries[start : start + len(block)])
    return entries if 2 * words == n else np.ascontiguousarray(entries[:, :n])
