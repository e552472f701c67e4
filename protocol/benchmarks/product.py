"""The miner's side of the matmul benchmark: C = A @ B in float32 and its commitment.

On a CUDA device (cupy importable and a device present) the product runs there, in float32 with
cuBLAS's default math (not TF32: CUPY_TF32 must stay unset, TF32 results fail the check); else
numpy's BLAS. A and B come from the same generator either way."""

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


def matmul_operands(*, seed: bytes, n: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """A (rows) and B (as its columns, i.e. B transposed), both float32 n×n."""
    indices = range(n)
    return matrix_rows(seed=seed, which="A", indices=indices, n=n), matrix_rows(
        seed=seed, which="B", indices=indices, n=n
    )


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


def commit_rows(c: NDArray[Any]) -> tuple[bytes, list[list[bytes]]]:
    """(root, levels) of the Merkle tree whose leaf i is row i of C."""
    levels = merkle_levels([row_leaf(i, row_bytes(row)) for i, row in enumerate(c)])
    return merkle_root(levels), levels
