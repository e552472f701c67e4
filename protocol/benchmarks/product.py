"""The miner's side of the matmul benchmark: C = A @ B in float32 and its commitment.

On a CUDA device (cupy importable and a device present) the product runs there, in float32 with
cuBLAS's default math (not TF32: CUPY_TF32 must stay unset, TF32 results fail the check); else
numpy's BLAS. A and B come from the same generator either way.

Generating A and B and hashing the rows of C use a thread per core: Philox, numpy's conversions
and SHA-256 of a row all release the GIL, so an honest miner is not held back by Python."""

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from protocol.benchmarks.generator import matrix_rows
from protocol.benchmarks.merkle import merkle_levels, merkle_root, row_leaf

try:  # the benchmark image has no cupy; a GPU image may
    import cupy

    _HAS_DEVICE = cupy.cuda.runtime.getDeviceCount() > 0
except Exception:  # no cupy, no driver or no device all mean "use numpy"
    cupy = None
    _HAS_DEVICE = False


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; the cores a container may use
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def matmul_operands(*, seed: bytes, n: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """A (rows) and B (as its columns, i.e. B transposed), both float32 n×n."""
    with ThreadPoolExecutor(max_workers=min(2, _cores())) as pool:
        a = pool.submit(matrix_rows, seed=seed, which="A", indices=range(n), n=n)
        b_columns = pool.submit(matrix_rows, seed=seed, which="B", indices=range(n), n=n)
        return a.result(), b_columns.result()


def matmul_compute(*, seed: bytes, n: int) -> NDArray[Any]:
    """C = A @ B, float32, n×n, C-contiguous."""
    a, b_columns = matmul_operands(seed=seed, n=n)
    if _HAS_DEVICE and cupy is not None:
        c = cupy.asnumpy(cupy.asarray(a) @ cupy.asarray(b_columns).T)
    else:
        c = a @ b_columns.T
    return np.ascontiguousarray(c, dtype=np.float32)


def row_bytes(row: NDArray[Any]) -> bytes:
    return np.ascontiguousarray(row, dtype="<f4").tobytes()


def _leaves(c: NDArray[Any], part: int, parts: int) -> list[bytes]:
    n = len(c)
    return [row_leaf(i, c[i].data) for i in range(n * part // parts, n * (part + 1) // parts)]


def commit_rows(c: NDArray[Any]) -> tuple[bytes, list[list[bytes]]]:
    """(root, levels) of the Merkle tree whose leaf i is row i of C."""
    c = np.ascontiguousarray(c, dtype="<f4")  # a no-op for matmul_compute's C
    parts = max(1, min(_cores(), len(c)))
    with ThreadPoolExecutor(max_workers=parts) as pool:
        chunks = pool.map(_leaves, [c] * parts, range(parts), [parts] * parts)
        levels = merkle_levels([leaf for chunk in chunks for leaf in chunk])
    return merkle_root(levels), levels
