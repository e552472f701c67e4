"""The miner's side: A and B generated in parallel are the generator's matrices, and the threaded
commitment is the Merkle tree of the rows' float32 little-endian bytes, however C is laid out."""

import numpy as np
import pytest

from protocol.benchmarks import product
from protocol.benchmarks.generator import matrix_rows
from protocol.benchmarks.merkle import merkle_levels, merkle_root, row_leaf
from protocol.benchmarks.product import commit_rows, matmul_operands, row_bytes
from tests.protocol.benchmarks.openings import fresh_seed

N = 40


def sequential_commitment(c: np.ndarray) -> tuple[bytes, list[list[bytes]]]:
    levels = merkle_levels([row_leaf(i, row_bytes(row)) for i, row in enumerate(c)])
    return merkle_root(levels), levels


def test_operands_are_the_generators_a_and_b_columns() -> None:
    seed = fresh_seed()
    a, b_columns = matmul_operands(seed=seed, n=N)
    assert np.array_equal(a, matrix_rows(seed=seed, which="A", indices=range(N), n=N))
    assert np.array_equal(b_columns, matrix_rows(seed=seed, which="B", indices=range(N), n=N))


@pytest.mark.parametrize("cores", [1, 3, 64])
@pytest.mark.parametrize("layout", ["float32", "strided", "float64", "one row"])
def test_commitment_equals_the_sequential_tree(monkeypatch: pytest.MonkeyPatch, cores: int, layout: str) -> None:
    monkeypatch.setattr(product, "_cores", lambda: cores)
    c = np.random.default_rng().standard_normal((N, 2 * N)).astype(np.float32)
    shapes: dict[str, np.ndarray] = {
        "float32": c,
        "strided": c[:, ::2],
        "float64": c.astype(np.float64),
        "one row": c[:1],
    }
    shaped = shapes[layout]
    assert commit_rows(shaped) == sequential_commitment(shaped)


def test_commitment_binds_every_row() -> None:
    c = np.random.default_rng().standard_normal((N, N)).astype(np.float32)
    changed = c.copy()
    changed[N - 1, 0] = np.nextafter(changed[N - 1, 0], np.float32(np.inf))
    assert commit_rows(changed)[0] != commit_rows(c)[0]


def test_an_empty_matrix_has_no_commitment() -> None:
    with pytest.raises(ValueError, match="at least one leaf"):
        commit_rows(np.empty((0, 4), dtype=np.float32))
