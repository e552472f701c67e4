#!/usr/bin/env python
"""Verification cost of the synthetic benchmarks: what the miner spends producing an answer
against what the validator spends checking it (goal for matmul at n ≥ 2048: ≤ 1%, aim 0.1%).

- pow: the miner runs pow_solve (count × 2^difficulty SHA-256); the validator derives the
  challenge (HMAC) and runs pow_check (count hashes).
- matmul: the miner generates A and B, multiplies (float32 BLAS) and commits to the rows of C;
  the validator draws a seed and runs matmul_check on k opened rows × m secret columns, by default
  the validator's own VALIDATOR_MATMUL_ROWS / VALIDATOR_MATMUL_COLUMNS (32 and 16). The miner's
  side is also shown as its product alone (what a fast GPU would still have to do).

    .venv/bin/python bench/verify_cost.py [--sizes 2048 4096] [--rows K] [--columns M]
        [--pow-difficulty 16] [--pow-count 64] [--repeat 31]

Each figure is the best of its runs (the miner's 3, the validator's --repeat): on a shared machine
the minimum is the stable estimate of a cost; the validator's median is printed too.
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.settings.components.verification import (  # noqa: E402
    VALIDATOR_MATMUL_COLUMNS,
    VALIDATOR_MATMUL_ROWS,
)
from protocol.benchmarks.matmul import commit_rows, matmul_check  # noqa: E402
from protocol.benchmarks.pow import pow_challenge, pow_check, pow_solve  # noqa: E402
from protocol.benchmarks.product import matmul_operands  # noqa: E402
from protocol.messages.benchmarks import CheckReason  # noqa: E402
from tests.protocol.benchmarks.openings import open_rows  # noqa: E402


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def best_and_median(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    runs = [timed(fn)[0] for _ in range(repeat)]
    return min(runs), statistics.median(runs)


def bench_pow(*, difficulty: int, count: int, repeat: int) -> None:
    secret = os.urandom(32)
    challenge = pow_challenge(secret=secret, miner_hotkey="5Miner", executor="host/cpu/0", cycle=1)
    solve_s, nonces = timed(lambda: pow_solve(challenge=challenge, difficulty=difficulty, count=count))
    hashes = sum(nonce + 1 for nonce in nonces)

    def verify() -> None:
        fresh = pow_challenge(secret=secret, miner_hotkey="5Miner", executor="host/cpu/0", cycle=1)
        assert pow_check(challenge=fresh, difficulty=difficulty, count=count, nonces=nonces)[0] is CheckReason.PASSED

    verify_s, _ = best_and_median(verify, repeat * 30)
    print(
        f"pow  d={difficulty} count={count}: miner {solve_s:.2f} s ({hashes / solve_s / 1e6:.2f} M hashes/s), "
        f"validator {verify_s * 1e6:.0f} µs, ratio {verify_s / solve_s:.1e}"
    )


def bench_matmul(*, n: int, rows: int, columns: int, repeat: int) -> None:
    seed = os.urandom(16)
    generate_s, (a, b_columns) = min(
        (timed(lambda: matmul_operands(seed=seed, n=n)) for _ in range(3)), key=lambda run: run[0]
    )
    product_s, c = min((timed(lambda: a @ b_columns.T) for _ in range(3)), key=lambda run: run[0])
    commit_s, (root, levels) = min((timed(lambda: commit_rows(c)) for _ in range(3)), key=lambda run: run[0])
    miner_s = generate_s + product_s + commit_s
    picked = sorted(random.sample(range(n), rows))  # as the validator draws them
    openings = open_rows(c, picked, levels)

    def verify() -> None:
        secret_columns = sorted(random.sample(range(n), columns))
        os.urandom(16)  # the challenge: a fresh seed
        reason, detail = matmul_check(seed=seed, n=n, root=root, openings=openings, rows=picked, columns=secret_columns)
        assert reason is CheckReason.PASSED, detail

    verify_s, verify_median_s = best_and_median(verify, repeat)
    print(
        f"matmul n={n} k={rows} m={columns}: miner {miner_s:.2f} s (generate {generate_s:.2f}, "
        f"product {product_s:.2f}, commit {commit_s:.2f}), validator {verify_s * 1e3:.1f} ms "
        f"(median {verify_median_s * 1e3:.1f}), "
        f"ratio {verify_s / miner_s:.2%} of the whole, {verify_s / product_s:.2%} of the product alone"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048, 4096])
    parser.add_argument("--rows", type=int, default=VALIDATOR_MATMUL_ROWS)
    parser.add_argument("--columns", type=int, default=VALIDATOR_MATMUL_COLUMNS)
    parser.add_argument("--pow-difficulty", type=int, default=16)
    parser.add_argument("--pow-count", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=31)
    args = parser.parse_args()
    bench_pow(difficulty=args.pow_difficulty, count=args.pow_count, repeat=args.repeat)
    for n in args.sizes:
        bench_matmul(n=n, rows=args.rows, columns=args.columns, repeat=args.repeat)


if __name__ == "__main__":
    main()
