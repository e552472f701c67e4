"""What an honest (or not) miner sends: openings of chosen rows of a committed C."""

import base64
import os
from collections.abc import Sequence

import numpy as np

from protocol.benchmarks.matmul import commit_rows, merkle_path, row_bytes
from protocol.messages.benchmarks import RowOpening


def open_rows(c: np.ndarray, rows: Sequence[int], levels: list[list[bytes]] | None = None) -> list[RowOpening]:
    levels = levels if levels is not None else commit_rows(c)[1]
    return [
        RowOpening(
            index=i,
            row_b64=base64.b64encode(row_bytes(c[i])).decode(),
            path=[node.hex() for node in merkle_path(levels, i)],
        )
        for i in rows
    ]


def fresh_seed() -> bytes:
    return os.urandom(16)


def round_mantissa(x: np.ndarray, kept_bits: int) -> np.ndarray:
    """float32 rounded (to nearest even) to `kept_bits` explicit mantissa bits: 10 is float16's and
    TF32's precision, 7 is bfloat16's."""
    drop = 23 - kept_bits
    bits = x.astype(np.float32).view(np.uint32).astype(np.int64)
    rounded = (bits + (1 << (drop - 1)) - 1 + ((bits >> drop) & 1)) >> drop << drop
    return rounded.astype(np.uint32).view(np.float32)
