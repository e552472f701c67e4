#!/usr/bin/env python
"""A full benchmark cycle at subnet scale: one validator's `benchmark_run` (dial every miner, read
the manifests, the proof-of-work phase, the matmul phase: challenges sent, answers verified,
results recorded) against MINERS × EXECUTORS honest simulated miners (bench/cycle_miners.py, real
websockets and handshakes on loopback, in a separate process so this process is the validator
alone). Goal: 2,048 executors in ≤ 60 s.

    .venv/bin/python bench/cycle.py [--miners 256] [--executors 8] [--n 128]
        [--pow-difficulty 8] [--pow-count 4] [--reference-s 10] [--profile] [--deflate] [--receipts 100000]

It then scores the cycle and prints the rows each step wrote to the validator's database
(bench/cycle_accounting.py); `--receipts N` then runs bench/receipts.py (pull and verify N receipts).

The matmul size is small (the simulated miners must compute 2,048 products on the same 2 cores):
the validator's cost per matmul check at n = 2048 is measured here too, for extrapolation.
Uses a scratch database (meshwork_bench_cycle, or $MESHWORK_BENCH_CYCLE_DB), created and dropped by the run.
"""

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.localnet.databases import database_url, drop_databases, migrate  # noqa: E402

DB_NAME = os.environ.get("MESHWORK_BENCH_CYCLE_DB", "meshwork_bench_cycle")  # the tests use their own
CLASS = "cpu.bench-cycle"
os.environ["DATABASE_URL"] = database_url(DB_NAME)
os.environ["CHAIN_DATABASE_URL"] = ""
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
os.environ["MESHWORK_ROLE"] = "validator"
os.environ["DHT_ROUTE_REQUIRE_HEARTBEAT"] = "false"  # the Miner rows are the registry here: no DHT
os.environ["MESHWORK_REDIS_PREFIX"] = "meshwork:bench-cycle"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from cycle_accounting import rows_report, score_the_cycle, table_counts, written  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from psycopg import sql  # noqa: E402

import validator.cycle.run as run_module  # noqa: E402
import validator.cycle.session as session_module  # noqa: E402
from deploy.localnet.databases import admin_dsn  # noqa: E402
from executor.models import ExecutorClass  # noqa: E402
from protocol.benchmarks.matmul import commit_rows, matmul_check  # noqa: E402
from protocol.benchmarks.pow import pow_check  # noqa: E402
from protocol.benchmarks.product import matmul_compute  # noqa: E402
from protocol.keys import hotkey_create  # noqa: E402
from protocol.messages.benchmarks import CheckReason  # noqa: E402
from protocol.nonces import RedisNonceStore  # noqa: E402
from tests.protocol.benchmarks.openings import open_rows  # noqa: E402
from validator.cycle.run import RunSummary, benchmark_run  # noqa: E402
from validator.models import BenchmarkCheck, BenchmarkCycle, Miner  # noqa: E402

T = TypeVar("T")
STEPS: dict[str, list[float]] = {}  # step of the run -> [wall s, validator process CPU s]
VERIFY: dict[str, list[float]] = {"pow": [], "matmul": []}  # seconds per check call


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def _step_add(name: str, wall_start: float, cpu_start: float) -> None:
    # process_time counts every thread of the process: the steps run one after another.
    wall, cpu = STEPS.setdefault(name, [0.0, 0.0])
    STEPS[name] = [wall + time.perf_counter() - wall_start, cpu + time.process_time() - cpu_start]


def _step_async(name: Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return await fn(*args, **kwargs)
        finally:
            _step_add(name(*args), wall, cpu)

    return wrapper


def _step_sync(name: Callable[..., str], fn: Callable[..., T]) -> Callable[..., T]:
    def wrapper(*args: Any, **kwargs: Any) -> T:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            _step_add(name(*args), wall, cpu)

    return wrapper


def _verify_timed(kind: str, fn: Callable[..., T]) -> Callable[..., T]:
    def wrapper(*args: Any, **kwargs: Any) -> T:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            VERIFY[kind].append(time.perf_counter() - started)

    return wrapper


@contextmanager
def instrumented() -> Iterator[None]:
    """Times each step of `benchmark_run` by wrapping its module's own steps (the validator's code
    is run unchanged), and every verification call."""
    patches = {
        (run_module, "_connect_all"): _step_async(lambda *a: "dial + manifests", run_module._connect_all),
        (run_module, "_phase"): _step_async(lambda phase, *a: f"{phase} phase (send → verified)", run_module._phase),
        (run_module, "_prepare"): _step_sync(lambda *a: "manifests checked + recorded", run_module._prepare),
        (run_module, "_record_phase"): _step_sync(
            lambda cycle, phase, *a: f"{phase} results recorded", run_module._record_phase
        ),
        (session_module, "pow_check"): _verify_timed("pow", pow_check),
        (session_module, "matmul_check"): _verify_timed("matmul", matmul_check),
    }
    with ExitStack() as stack:
        for (module, attr), new in patches.items():
            stack.enter_context(mock.patch.object(module, attr, new=new))
        yield


def database_create() -> None:
    drop_databases([DB_NAME])
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    migrate(database_url(DB_NAME), os.environ)


def bench_class(args: argparse.Namespace) -> None:
    ExecutorClass.objects.update_or_create(
        name=CLASS,
        defaults={
            "cpus": 0.5,
            "memory_mb": 256,
            "pids": 64,
            "output_mb": 16,
            "price_per_second": "0.001",
            "spin_up_s": 0.3,
            "matmul_n": args.n,
            "pow_difficulty": args.pow_difficulty,
            "pow_count": args.pow_count,
            # Generous: the simulated miners share 2 cores, so honest answers queue behind each other.
            "reference_seconds": {"pow": args.reference_s, "matmul": args.reference_s},
        },
    )


def miners_start(args: argparse.Namespace) -> tuple["subprocess.Popen[str]", list[dict[str, str]]]:
    command = [sys.executable, str(ROOT / "bench" / "cycle_miners.py"), "--class", CLASS]
    command += ["--miners", str(args.miners), "--executors", str(args.executors)]
    command += ["--deflate"] if args.deflate else []
    # One BLAS thread per product: the miners already run several products at once in threads, and
    # OpenBLAS's own threads would spin against them on 2 cores (measured: 5× the CPU).
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"the miners' process exited with {proc.wait()}")
    served: list[dict[str, str]] = json.loads(line)["miners"]
    return proc, served


def miners_stop(proc: "subprocess.Popen[str]") -> float:
    """Its CPU seconds, as it reports them on the way out."""
    out, _ = proc.communicate(input="", timeout=30)
    return float(json.loads(out.strip().splitlines()[-1])["cpu_s"])


async def one_cycle() -> RunSummary | None:
    nonces = RedisNonceStore(prefix=f"{settings.REDIS_PREFIX}:nonce:{uuid.uuid4().hex}:")
    try:
        hotkey, _ = hotkey_create()
        return await benchmark_run(number=1, kind=BenchmarkCycle.Kind.CYCLE, hotkey=hotkey, nonces=nonces)
    finally:
        await nonces.close()


def matmul_check_cost(n: int, repeat: int = 5) -> float:
    """Best-of seconds of one matmul check at size n, with this validator's k rows × m columns."""
    seed = os.urandom(16)
    c = matmul_compute(seed=seed, n=n)
    root, levels = commit_rows(c)
    rows = sorted(range(0, n, n // settings.VALIDATOR_MATMUL_ROWS))[: settings.VALIDATOR_MATMUL_ROWS]
    columns = list(range(1, n, n // settings.VALIDATOR_MATMUL_COLUMNS))[: settings.VALIDATOR_MATMUL_COLUMNS]
    openings = open_rows(c, rows, levels)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        reason, detail = matmul_check(seed=seed, n=n, root=root, openings=openings, rows=rows, columns=columns)
        best = min(best, time.perf_counter() - started)
        assert reason is CheckReason.PASSED, detail
    return best


def report(args: argparse.Namespace, summary: RunSummary, wall_s: float, cpu_s: float, miners_cpu_s: float) -> None:
    executors = args.miners * args.executors
    checks = BenchmarkCheck.objects.filter(cycle__number=1)
    print(
        f"cycle: {args.miners} miners × {args.executors} executors = {executors} executors; "
        f"matmul n = {args.n} (small for the simulation), pow difficulty {args.pow_difficulty} × {args.pow_count}; "
        f"k = {settings.VALIDATOR_MATMUL_ROWS} rows × m = {settings.VALIDATOR_MATMUL_COLUMNS} columns; "
        f"links {'with' if args.deflate else 'without'} permessage-deflate; "
        f"{os.cpu_count()} cores shared by the validator, the miners' process, Postgres and Redis "
        f"(load average at the end {os.getloadavg()[0]:.1f}); "
        f"validator OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}"
    )
    goal = ("met" if wall_s <= 60 else "NOT met") if executors >= 2048 else "not measured: fewer executors"
    print(f"total benchmark_run: {wall_s:.2f} s wall (goal ≤ 60 s for 2,048 executors: {goal})")
    per_executor = cpu_s / executors * 1e3
    print(f"validator process CPU: {cpu_s:.2f} s ({cpu_s / wall_s:.0%} of wall, {per_executor:.1f} ms per executor)")
    print(f"miners' process CPU: {miners_cpu_s:.2f} s (the simulated miners, not part of the validator's cost)")
    print(f"  {'step':<34} {'wall s':>7} {'CPU s':>7}")
    for step, (wall, cpu) in STEPS.items():
        print(f"  {step:<34} {wall:7.2f} {cpu:7.2f}")
    print(
        f"check rows recorded: {checks.count()} ({checks.filter(benchmark='manifest').count()} manifest, "
        f"{summary.checks} pow + matmul), passed {summary.passed}"
    )
    print(f"  reasons: {dict(sorted(summary.reasons.items()))}")
    for kind in ("pow", "matmul"):
        seconds = [float(s) for s in checks.filter(benchmark=kind).values_list("seconds", flat=True) if s is not None]
        calls = VERIFY[kind]
        print(
            f"  {kind:<6} measured seconds p50 {percentile(seconds, 0.5):.2f} p95 {percentile(seconds, 0.95):.2f} "
            f"max {max(seconds, default=float('nan')):.2f}; verified {len(calls)} in {sum(calls):.2f} s "
            f"(mean {statistics.mean(calls) * 1e3 if calls else float('nan'):.2f} ms)"
        )
    at_2048 = matmul_check_cost(2048)
    print(
        f"extrapolation: one matmul check at n = 2048 costs the validator {at_2048 * 1e3:.1f} ms (best of 5, "
        f"cf. bench/verify_cost.py), so {executors} checks ≈ {executors * at_2048:.1f} s of CPU, "
        f"≥ {executors * at_2048 / min(os.cpu_count() or 1, settings.VALIDATOR_VERIFY_THREADS):.1f} s wall "
        f"over {settings.VALIDATOR_VERIFY_THREADS} verify threads"
    )


def profile_print(profile: cProfile.Profile) -> None:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
    print("profile of the validator's event loop thread (ORM work runs in sync_to_async's thread, timed above):")
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--miners", type=int, default=256)
    parser.add_argument("--executors", type=int, default=8)
    parser.add_argument("--n", type=int, default=128)
    parser.add_argument("--pow-difficulty", type=int, default=8)
    parser.add_argument("--pow-count", type=int, default=4)
    parser.add_argument("--reference-s", type=float, default=10.0)
    parser.add_argument("--profile", action="store_true", help="cProfile the event loop thread")
    parser.add_argument("--deflate", action="store_true", help="miners accept permessage-deflate (real ones do not)")
    parser.add_argument("--receipts", type=int, default=0, help="then pull and verify this many (bench/receipts.py)")
    args = parser.parse_args()
    database_create()
    proc = None
    try:
        bench_class(args)
        proc, served = miners_start(args)
        Miner.objects.bulk_create(
            Miner(hotkey=m["hotkey"], address=m["address"], coldkey=f"cold-{i}") for i, m in enumerate(served)
        )
        counts_before = table_counts()
        connections.close_all()  # the run opens its own in its ORM thread
        profile = cProfile.Profile() if args.profile else None
        before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        with instrumented():
            if profile is not None:
                profile.enable()
            summary = asyncio.run(one_cycle())
            if profile is not None:
                profile.disable()
        wall_s, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF)
        cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        miners_cpu_s, proc = miners_stop(proc), None
        assert summary is not None
        report(args, summary, wall_s, cpu_s, miners_cpu_s)
        counts_run = table_counts()
        rows_report("the benchmark run", written(counts_before, counts_run), args.miners)
        score_s, score_rows = score_the_cycle(number=summary.number, length=3600.0)
        print(f"scoring the cycle: {score_s:.2f} s wall")
        rows_report("scoring the cycle", score_rows, args.miners)
        if profile is not None:
            profile_print(profile)
        if args.receipts:
            receipts = [sys.executable, str(ROOT / "bench" / "receipts.py"), "--receipts", str(args.receipts)]
            subprocess.run([*receipts, "--runs", "1"], check=True)
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        connections.close_all()
        drop_databases([DB_NAME])


if __name__ == "__main__":
    main()
