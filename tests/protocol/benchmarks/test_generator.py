"""The seeded matrices: deterministic, every row of A / column of B generated on its own, exact
float32 values in [-0.5, 0.5), different seeds and matrices give unrelated entries, and the entries
are the documented function of Philox's raw words (which numpy keeps identical across versions)."""

import numpy as np
import pytest

from protocol.benchmarks import generator
from protocol.benchmarks.generator import matrix_rows
from tests.protocol.benchmarks.openings import fresh_seed

N = 96


def full(seed: bytes, which: str, n: int = N) -> np.ndarray:
    return matrix_rows(seed=seed, which=which, indices=range(n), n=n)  # type: ignore[arg-type]


@pytest.mark.parametrize("which", ["A", "B"])
def test_same_seed_same_matrix(which: str) -> None:
    seed = fresh_seed()
    first, second = full(seed, which), full(seed, which)
    assert first.dtype == np.float32
    assert first.shape == (N, N)
    assert np.array_equal(first, second)


@pytest.mark.parametrize("which", ["A", "B"])
def test_a_row_generated_alone_equals_its_row_of_the_full_matrix(which: str) -> None:
    seed = fresh_seed()
    whole = full(seed, which)
    picked = [N - 1, 0, 37, 37]
    alone = matrix_rows(seed=seed, which=which, indices=picked, n=N)  # type: ignore[arg-type]
    assert np.array_equal(alone, whole[picked])


def reference_row(seed: bytes, matrix: int, index: int, n: int) -> list[float]:
    """The documented layout, spelled out in plain Python on a Philox built for this one row."""
    key = np.frombuffer(seed, dtype="<u8").astype(np.uint64)
    counter = np.array([0, index, matrix, 0], dtype=np.uint64)
    entries = []
    for word in np.random.Philox(key=key, counter=counter).random_raw((n + 1) // 2).tolist():
        for shift in (40, 16):
            field = (word >> shift) & 0xFFFFFF
            entries.append((field - (1 << 24) if field >= 1 << 23 else field) / 2**24)
    return entries[:n]


@pytest.mark.parametrize(("which", "matrix"), [("A", 1), ("B", 2)])
@pytest.mark.parametrize("n", [1, 7, 96])
def test_entries_are_the_documented_function_of_the_raw_words(which: str, matrix: int, n: int) -> None:
    seed = fresh_seed()
    picked = [n - 1, 0, n // 2, n - 1]
    rows = matrix_rows(seed=seed, which=which, indices=picked, n=n)  # type: ignore[arg-type]
    assert rows.shape == (len(picked), n)
    assert rows.dtype == np.float32
    assert rows.flags.c_contiguous
    assert [row.tolist() for row in rows] == [reference_row(seed, matrix, index, n) for index in picked]


def test_rows_beyond_one_conversion_chunk_equal_rows_generated_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generator, "_CHUNK_WORDS", 5 * N // 2)  # 5 rows a chunk: the last has one
    seed = fresh_seed()
    whole = full(seed, "A")
    assert [whole[i].tolist() for i in (0, 2, 3, 50, N - 1)] == [
        reference_row(seed, 1, i, N) for i in (0, 2, 3, 50, N - 1)
    ]


def test_the_row_depends_on_n_only_through_its_length() -> None:
    # A row is a stream: a longer matrix's row starts with the shorter one's.
    seed = fresh_seed()
    short = matrix_rows(seed=seed, which="A", indices=[3], n=16)
    long = matrix_rows(seed=seed, which="A", indices=[3], n=64)
    assert np.array_equal(long[0, :16], short[0])


def test_seeds_and_matrices_differ() -> None:
    seed = fresh_seed()
    a, b, other = full(seed, "A"), full(seed, "B"), full(fresh_seed(), "A")
    for x, y in ((a, b), (a, other)):
        assert np.mean(x == y) < 0.01
        assert abs(np.corrcoef(x.ravel(), y.ravel())[0, 1]) < 0.05


def test_values_are_exact_24_bit_uniform_in_the_half_open_interval() -> None:
    a = full(fresh_seed(), "A", n=256)
    assert a.min() >= -0.5
    assert a.max() < 0.5
    assert np.array_equal(a * 2.0**24, np.round(a * 2.0**24))  # multiples of 2^-24: no rounding
    assert abs(float(a.mean())) < 0.01
    assert abs(float(a.var()) - 1 / 12) < 0.005


def test_no_shift_structure_between_neighbouring_rows() -> None:
    # Hankel/Toeplitz matrices repeat a row shifted by one; these rows are unrelated.
    a = full(fresh_seed(), "A", n=256)
    for shift in (-1, 0, 1):
        corr = np.corrcoef(a[0, 1:-1], np.roll(a[1], shift)[1:-1])[0, 1]
        assert abs(corr) < 0.25


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        matrix_rows(seed=b"short", which="A", indices=[0], n=4)
    with pytest.raises(ValueError, match="outside"):
        matrix_rows(seed=fresh_seed(), which="B", indices=[4], n=4)
    with pytest.raises(ValueError, match="positive"):
        matrix_rows(seed=fresh_seed(), which="A", indices=[], n=0)
