"""matmul_check: an honest float32 C passes whatever the summation order; a C that was not
computed (zeros, random, a faked fraction of rows when a faked row is opened, entries off in
checked columns) or computed at lower precision is a wrong answer; openings that do not match
the root are a bad proof; openings of the wrong shape are malformed."""

import base64
import random

import numpy as np
import pytest

from protocol.benchmarks import matmul
from protocol.benchmarks.generator import matrix_rows
from protocol.benchmarks.matmul import ENTRY_TOLERANCE, RMS_TOLERANCE, commit_rows, matmul_check, matmul_compute
from protocol.benchmarks.product import matmul_operands
from protocol.messages.benchmarks import CheckReason
from tests.protocol.benchmarks.openings import fresh_seed, open_rows, round_mantissa

N = 192
K, M = 32, 16


@pytest.fixture(scope="module")
def seed() -> bytes:
    return fresh_seed()


@pytest.fixture(scope="module")
def honest(seed: bytes) -> np.ndarray:
    return matmul_compute(seed=seed, n=N)


def pick(count: int, n: int = N) -> list[int]:
    return random.sample(range(n), count)


def check(seed: bytes, c: np.ndarray, rows: list[int], columns: list[int] | None = None, **kwargs):
    root, levels = commit_rows(c)
    openings = kwargs.pop("openings", None) or open_rows(c, rows, levels)
    return matmul_check(
        seed=seed, n=N, root=kwargs.pop("root", root), openings=openings, rows=rows, columns=columns or pick(M)
    )


def test_the_product_is_a_times_b(seed: bytes, honest: np.ndarray) -> None:
    a, b_columns = matmul_operands(seed=seed, n=N)
    exact = a.astype(np.float64) @ b_columns.astype(np.float64).T
    assert honest.dtype == np.float32
    assert honest.shape == (N, N)
    assert honest.flags.c_contiguous
    assert np.allclose(honest, exact, rtol=0, atol=1e-4)
    assert np.array_equal(matmul_compute(seed=seed, n=N), honest)


def test_an_honest_answer_passes(seed: bytes, honest: np.ndarray) -> None:
    reason, detail = check(seed, honest, pick(K))
    assert reason is CheckReason.PASSED, detail
    assert f"{K}×{M} entries" in detail


def test_float32_in_the_worst_summation_order_passes(seed: bytes, honest: np.ndarray) -> None:
    # Another BLAS (or a GPU) sums in another order: sequential float32 sums are the worst case.
    rows = pick(K)
    a = matrix_rows(seed=seed, which="A", indices=rows, n=N)
    _, b_columns = matmul_operands(seed=seed, n=N)
    sequential = honest.copy()
    products = a[:, None, :] * b_columns[None, :, :]
    sequential[rows] = np.cumsum(products[:, :, ::-1], axis=2, dtype=np.float32)[:, :, -1]
    assert not np.array_equal(sequential[rows], honest[rows])
    reason, detail = check(seed, sequential, rows)
    assert reason is CheckReason.PASSED, detail


@pytest.mark.parametrize(("name", "kept_bits"), [("float16/TF32", 10), ("bfloat16", 7)])
def test_lower_precision_inputs_fail(seed: bytes, name: str, kept_bits: int) -> None:
    a, b_columns = matmul_operands(seed=seed, n=N)
    low = round_mantissa(a, kept_bits) @ round_mantissa(b_columns, kept_bits).T
    reason, detail = check(seed, low, pick(K))
    assert reason is CheckReason.WRONG_ANSWER, (name, detail)


def test_float16_arithmetic_fails(seed: bytes) -> None:
    a, b_columns = matmul_operands(seed=seed, n=N)
    half = (a.astype(np.float16) @ b_columns.astype(np.float16).T).astype(np.float32)
    reason, _ = check(seed, half, pick(K))
    assert reason is CheckReason.WRONG_ANSWER


@pytest.mark.parametrize("fake", ["zeros", "random", "nan"])
def test_a_c_that_was_not_computed_fails(seed: bytes, fake: str) -> None:
    c = {
        "zeros": np.zeros((N, N), dtype=np.float32),
        "random": np.random.default_rng().normal(0, np.sqrt(N) / 12, (N, N)).astype(np.float32),
        "nan": np.full((N, N), np.nan, dtype=np.float32),
    }[fake]
    reason, detail = check(seed, c, pick(K))
    assert reason is CheckReason.WRONG_ANSWER
    assert "off by" in detail


def test_a_faked_fraction_of_rows_fails_exactly_when_a_faked_row_is_opened(seed: bytes, honest: np.ndarray) -> None:
    faked = set(random.sample(range(N), N // 4))
    c = honest.copy()
    c[sorted(faked)] = np.random.default_rng().normal(0, 1, (len(faked), N)).astype(np.float32)
    honest_rows = [i for i in range(N) if i not in faked]
    assert check(seed, c, random.sample(honest_rows, K))[0] is CheckReason.PASSED
    with_one_faked = [*random.sample(honest_rows, K - 1), random.choice(sorted(faked))]
    assert check(seed, c, with_one_faked)[0] is CheckReason.WRONG_ANSWER
    for _ in range(5):
        rows = pick(K)
        expected = CheckReason.WRONG_ANSWER if faked & set(rows) else CheckReason.PASSED
        assert check(seed, c, rows)[0] is expected


def test_an_entry_off_in_a_checked_column_fails(seed: bytes, honest: np.ndarray) -> None:
    rows, columns = pick(K), pick(M)
    c = honest.copy()
    c[rows[3], columns[5]] += 0.01 * np.sqrt(N) / 12  # 1% of an entry's spread: > ENTRY_TOLERANCE
    reason, detail = check(seed, c, rows, columns)
    assert reason is CheckReason.WRONG_ANSWER
    assert f"C[{rows[3]}, {columns[5]}]" in detail


def test_tolerances_sit_between_float32_and_float16() -> None:
    # float16/TF32 inputs give rms ≈ 2.5e-4 and float32 at n = 32768 at most ≈ 3.2e-6 (docstring).
    assert 3.2e-6 * 5 < RMS_TOLERANCE < 2.5e-4 / 5
    assert RMS_TOLERANCE < ENTRY_TOLERANCE < 1e-3


def test_a_row_changed_after_the_commitment_is_a_bad_proof(seed: bytes, honest: np.ndarray) -> None:
    rows = pick(K)
    root, levels = commit_rows(honest)
    changed = honest.copy()
    changed[rows[0], 0] = np.nextafter(changed[rows[0], 0], np.float32(1))
    openings = open_rows(changed, rows, levels)  # old paths, new row
    reason, detail = matmul_check(seed=seed, n=N, root=root, openings=openings, rows=rows, columns=pick(M))
    assert reason is CheckReason.BAD_PROOF
    assert str(rows[0]) in detail


def test_openings_against_another_root_are_a_bad_proof(seed: bytes, honest: np.ndarray) -> None:
    other_root, _ = commit_rows(matmul_compute(seed=fresh_seed(), n=N))
    assert check(seed, honest, pick(K), root=other_root)[0] is CheckReason.BAD_PROOF


def test_a_row_opened_under_another_index_is_a_bad_proof(seed: bytes, honest: np.ndarray) -> None:
    rows = pick(K)
    openings = open_rows(honest, rows)
    openings[0] = openings[0].model_copy(update={"row_b64": openings[1].row_b64})
    assert check(seed, honest, rows, openings=openings)[0] is CheckReason.BAD_PROOF


def test_a_tampered_path_is_a_bad_proof(seed: bytes, honest: np.ndarray) -> None:
    rows = pick(K)
    openings = open_rows(honest, rows)
    path = list(openings[2].path)
    openings[2] = openings[2].model_copy(update={"path": path[:-1]})
    assert check(seed, honest, rows, openings=openings)[0] is CheckReason.BAD_PROOF
    openings = open_rows(honest, rows)
    openings[2] = openings[2].model_copy(update={"path": [*path[1:], path[0]]})
    assert check(seed, honest, rows, openings=openings)[0] is CheckReason.BAD_PROOF


@pytest.mark.parametrize(
    "change",
    ["missing", "extra", "duplicate", "other_index", "short_row", "long_row", "not_b64", "newline", "not_ascii"],
)
def test_openings_of_the_wrong_shape_are_malformed(seed: bytes, honest: np.ndarray, change: str) -> None:
    rows = pick(K)
    openings = open_rows(honest, rows)
    spare = next(i for i in range(N) if i not in rows)
    raw = base64.b64decode(openings[0].row_b64)
    if change == "missing":
        openings = openings[1:]
    elif change == "extra":
        openings = [*openings, *open_rows(honest, [spare])]
    elif change == "duplicate":
        openings = [*openings[1:], openings[1]]
    elif change == "other_index":
        openings = [*openings[1:], *open_rows(honest, [spare])]
    elif change in ("short_row", "long_row"):
        row = raw[:-4] if change == "short_row" else raw + raw[:4]
        openings[0] = openings[0].model_copy(update={"row_b64": base64.b64encode(row).decode()})
    else:
        text = openings[0].row_b64
        broken = {"not_b64": "!!" + text[2:], "newline": text[:8] + "\n" + text[8:], "not_ascii": "é" + text[1:]}
        openings[0] = openings[0].model_copy(update={"row_b64": broken[change]})
    reason, detail = check(seed, honest, rows, openings=openings)
    assert reason is CheckReason.MALFORMED, detail
    if change in ("not_b64", "newline", "not_ascii"):
        assert "not base64" in detail


def test_openings_in_another_order_pass(seed: bytes, honest: np.ndarray) -> None:
    rows = pick(K)
    openings = open_rows(honest, rows)[::-1]
    assert check(seed, honest, rows, openings=openings)[0] is CheckReason.PASSED


def test_the_validators_own_bad_arguments_raise(seed: bytes, honest: np.ndarray) -> None:
    root = commit_rows(honest)[0]
    with pytest.raises(ValueError, match="within"):
        matmul_check(seed=seed, n=N, root=root, openings=open_rows(honest, [0]), rows=[N], columns=[0])
    with pytest.raises(ValueError, match="non-empty"):
        matmul_check(seed=seed, n=N, root=root, openings=[], rows=[0], columns=[])


@pytest.mark.parametrize(("k", "m", "n"), [(32, 16, 2048), (32, 16, 1000), (600, 600, 3), (1, 1, 1)])
def test_the_block_product_in_slices_is_the_whole_product(k: int, m: int, n: int) -> None:
    # Slices of 512, of 512 with a short last one, of 1 (k·m > 2^18), and a single one.
    rng = np.random.default_rng()
    x, y = rng.standard_normal((k, n)), rng.standard_normal((m, n))
    assert np.allclose(matmul._product(x, y), x @ y.T, rtol=1e-12, atol=1e-12)
