"""The matmul benchmark, validator side: the miner commits to C = A @ B, the validator checks rows.

The miner computes C (n×n, float32) from a fresh 128-bit seed, commits to its rows with a Merkle
root, and only then learns which k rows to open. The validator checks every opening against the
root, then recomputes the k×m block C[rows, columns] itself from k rows of A and m columns of B
(generated on their own: O((k + m)·n), never O(n²)); the m columns are never sent, so a miner
cannot compute only the entries that will be checked. A C with a fraction f of rows faked passes
with probability (1 − f)^k: k = 32 catches f = 10% 97% of the time.

Tolerance. For entry (i, j) let s = sqrt(Σ_k a_ik² b_kj²) (the size of the products' spread) and
r = |ĉ − c| / s, with c computed in float64. Float32 with any summation order keeps r around
u·sqrt(n) at worst (u = 2^-24; sequential summation is the worst order), while rounding the
inputs to fewer mantissa bits adds an error of about 2^-(p+1)·sqrt(2/3)·s whatever n is (p = 10
for float16 and TF32, 7 for bfloat16). Measured with this generator's entries (uniform multiples of
2^-24 in [-0.5, 0.5), as now; k = m = 32 up to n = 4096,
16 above; "seq" sums in order, the worst order; low-precision inputs are rounded, then multiplied
in float32):

    n       float32 BLAS      float32 seq       float16/TF32 in   bfloat16 in
            max     rms       max     rms       median  rms       median  rms
    256     3.3e-7  8.8e-8    1.2e-6  2.8e-7    1.8e-4  2.6e-4    1.5e-3  2.2e-3
    2048    1.7e-6  3.7e-7    3.9e-6  8.6e-7    1.9e-4  2.6e-4    1.4e-3  2.1e-3
    4096    1.7e-6  3.8e-7    5.3e-6  1.2e-6    1.9e-4  2.7e-4    1.4e-3  2.1e-3
    16384   1.2e-6  4.0e-7    8.7e-6  2.2e-6    1.9e-4  2.6e-4    1.5e-3  2.1e-3
    32768   1.5e-6  3.8e-7    1.4e-5  3.2e-6    1.7e-4  2.5e-4    1.3e-3  2.0e-3

So the check has two bounds: every entry r ≤ ENTRY_TOLERANCE = 2^-12 (2.4e-4: 17× the worst
float32 entry at n = 32768; an entry that was not computed is off by r ~ 1), and the root mean
square of r over the block ≤ RMS_TOLERANCE = 2^-15 (3.1e-5: 9.5× the float32 sequential rms at
n = 32768, 8× below float16/TF32, 65× below bfloat16). The rms is a
reliable precision test once the block has a few hundred entries (k·m ≥ 256)."""

import binascii
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from protocol.benchmarks.generator import matrix_rows
from protocol.benchmarks.merkle import merkle_levels, merkle_path, merkle_root, merkle_verify, row_leaf
from protocol.benchmarks.product import commit_rows, matmul_compute, row_bytes
from protocol.messages.benchmarks import CheckReason, RowOpening

ENTRY_TOLERANCE = 2.0**-12
RMS_TOLERANCE = 2.0**-15

__all__ = [
    "ENTRY_TOLERANCE",
    "RMS_TOLERANCE",
    "commit_rows",
    "matmul_check",
    "matmul_compute",
    "matmul_error_ratios",
    "merkle_levels",
    "merkle_path",
    "merkle_root",
    "merkle_verify",
    "row_bytes",
    "row_leaf",
]


# OpenBLAS multiplies on the calling thread when m·n·k ≤ 2^18 and wakes its worker threads above
# that. For the check's tiny block the wake-up is the whole cost on a busy host: n = 2048, k = 32,
# m = 16 measured a median of 9.6 ms with threads against 2.7 ms without.
_SINGLE_THREAD_MNK = 1 << 18


def _product(x: NDArray[Any], y: NDArray[Any]) -> NDArray[Any]:
    """x @ y.T, summed over slices of the inner dimension small enough to stay on this thread."""
    step = max(1, _SINGLE_THREAD_MNK // max(1, len(x) * len(y)))
    out: NDArray[Any] = x[:, :step] @ y[:, :step].T
    for start in range(step, x.shape[1], step):
        out += x[:, start : start + step] @ y[:, start : start + step].T
    return out


def matmul_error_ratios(
    *, seed: bytes, n: int, rows: Sequence[int], columns: Sequence[int], claimed: NDArray[Any]
) -> NDArray[Any]:
    """r for each entry of the claimed k×m block C[rows, columns] (see the module docstring)."""
    a = matrix_rows(seed=seed, which="A", indices=rows, n=n)
    b = matrix_rows(seed=seed, which="B", indices=columns, n=n)
    exact = _product(a.astype(np.float64), b.astype(np.float64))  # exact products, ~2^-53 rounding
    # Only a scale: float32's relative error (≲ 1e-6 here) moves r by as much, far inside the bounds.
    spread = np.sqrt(_product(a * a, b * b).astype(np.float64))
    with np.errstate(invalid="ignore", over="ignore"):
        ratios = np.abs(claimed.astype(np.float64) - exact) / np.maximum(spread, np.finfo(np.float64).tiny)
    return np.where(np.isfinite(ratios), ratios, np.inf)


def _decode(opening: RowOpening, n: int) -> tuple[bytes, list[bytes]] | str:
    try:
        # Strict: only the alphabet, padding only at the end (b64decode's regex check costs 10% more).
        row = binascii.a2b_base64(opening.row_b64, strict_mode=True)
        path = [bytes.fromhex(node) for node in opening.path]
    except (binascii.Error, ValueError):
        return f"row {opening.index}: not base64 / hex"
    if len(row) != 4 * n:
        return f"row {opening.index}: {len(row)} bytes, expected {4 * n}"
    return row, path


def matmul_check(
    *,
    seed: bytes,
    n: int,
    root: bytes,
    openings: Sequence[RowOpening],
    rows: Sequence[int],
    columns: Sequence[int],
) -> tuple[CheckReason, str]:
    """Checks the openings of `rows` against `root`, then C[rows, columns] against A @ B."""
    if not rows or not columns or any(not 0 <= x < n for x in (*rows, *columns)):
        raise ValueError("rows and columns must be non-empty and within 0..n-1")
    opened = [opening.index for opening in openings]
    if sorted(opened) != sorted(set(rows)) or len(opened) != len(set(rows)):
        return CheckReason.MALFORMED, f"opened rows {sorted(opened)[:8]}… are not the requested {len(set(rows))}"
    block = np.empty((len(openings), len(columns)), dtype=np.float32)
    picked = np.asarray(columns, dtype=np.intp)
    for position, opening in enumerate(openings):
        decoded = _decode(opening, n)
        if isinstance(decoded, str):
            return CheckReason.MALFORMED, decoded
        row, path = decoded
        leaf = row_leaf(opening.index, row)
        if not merkle_verify(root=root, index=opening.index, leaf=leaf, path=path, n_leaves=n):
            return CheckReason.BAD_PROOF, f"row {opening.index} does not match the committed root"
        block[position] = np.frombuffer(row, dtype="<f4")[picked]
    ratios = matmul_error_ratios(seed=seed, n=n, rows=opened, columns=columns, claimed=block)
    worst = float(ratios.max())
    rms = math.sqrt(float(np.mean(np.square(ratios)))) if math.isfinite(worst) else math.inf
    if worst > ENTRY_TOLERANCE:
        row_at, column_at = (int(x) for x in np.unravel_index(int(np.argmax(ratios)), ratios.shape))
        where = f"C[{opened[row_at]}, {columns[column_at]}]"
        return CheckReason.WRONG_ANSWER, f"{where} off by {worst:.2e} (> {ENTRY_TOLERANCE:.2e})"
    if rms > RMS_TOLERANCE:
        return CheckReason.WRONG_ANSWER, f"rms error {rms:.2e} > {RMS_TOLERANCE:.2e}: not float32 precision"
    return CheckReason.PASSED, f"{len(opened)}×{len(columns)} entries, max {worst:.1e}, rms {rms:.1e}"
