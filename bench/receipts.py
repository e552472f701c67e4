#!/usr/bin/env python
"""Pulling and verifying 100,000 receipts: `receipts_pull_all` (the real code path: bounded HTTP
reads, both sr25519 signatures and the validator checks of every receipt in a worker thread, the
bulk store in Postgres, one ReceiptPull and one cursor per miner) against honest miners served by
bench/receipts_miners.py in another process. Baseline, in this process, interleaved: the same
pages fetched with the same client and concurrency and parsed as JSON, nothing verified or stored.

    .venv/bin/python bench/receipts.py [--receipts 100000] [--miners 20] [--page-size 500] [--runs 3]

Uses a scratch database (meshwork_bench_receipts, or $MESHWORK_BENCH_RECEIPTS_DB), created and dropped.
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.localnet.databases import admin_dsn, database_url, drop_databases, migrate  # noqa: E402

DB_NAME = os.environ.get("MESHWORK_BENCH_RECEIPTS_DB", "meshwork_bench_receipts")
os.environ["DATABASE_URL"] = database_url(DB_NAME)
os.environ["CHAIN_DATABASE_URL"] = ""
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
os.environ["MESHWORK_ROLE"] = "validator"
os.environ["CHAIN"] = "local"
os.environ["MESHWORK_REDIS_PREFIX"] = "meshwork:bench-receipts"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.utils import timezone  # noqa: E402
from psycopg import sql  # noqa: E402

import validator.receipts.verify as verify_module  # noqa: E402
from chain.interface import Role  # noqa: E402
from chain.local import LocalChain  # noqa: E402
from validator.models import Miner, ReceiptCursor, ReceiptPull, ReceiptRecord  # noqa: E402
from validator.receipts.fetch import PullBounds, receipt_pages  # noqa: E402
from validator.receipts.pull import PullSummary, receipts_pull_all_sync  # noqa: E402

T = TypeVar("T")
STEPS: dict[str, float] = {}  # step → seconds summed over calls (threads overlap: not wall time)


def database_create() -> None:
    drop_databases([DB_NAME])
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
    migrate(database_url(DB_NAME), os.environ)


def miners_start(args: argparse.Namespace) -> tuple["subprocess.Popen[str]", dict[str, Any]]:
    command = [sys.executable, str(ROOT / "bench" / "receipts_miners.py"), "--receipts", str(args.receipts)]
    command += ["--miners", str(args.miners), "--page-size", str(args.page_size)]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"the miners' process exited with {proc.wait()}")
    return proc, json.loads(line)


def _timed(name: str, fn: Callable[..., T]) -> Callable[..., T]:
    def wrapper(*args: Any, **kwargs: Any) -> T:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            STEPS[name] = STEPS.get(name, 0.0) + time.perf_counter() - started

    return wrapper


@contextmanager
def instrumented() -> Iterator[None]:
    """Times the two halves of each page's work (the code itself runs unchanged)."""
    with (
        mock.patch.object(verify_module, "receipts_check", _timed("verify (thread)", verify_module.receipts_check)),
        mock.patch.object(
            verify_module,
            "receipts_plausible_store",
            _timed("store (ORM thread)", verify_module.receipts_plausible_store),
        ),
    ):
        yield


async def baseline(miners: list[Miner]) -> int:
    """The same pages, client, bounds and concurrency: transfer and JSON parse only."""
    bounds = PullBounds.from_settings()
    gate = asyncio.Semaphore(settings.VALIDATOR_RECEIPT_PULL_CONCURRENCY)
    limits = httpx.Limits(max_connections=settings.VALIDATOR_RECEIPT_PULL_CONCURRENCY)
    total = 0

    async def one(client: httpx.AsyncClient, miner: Miner) -> None:
        nonlocal total
        async with gate:
            since = timezone.now()
            async for page in receipt_pages(client, address=miner.address, cursor="", since=since, bounds=bounds):
                total += len(page.items)

    async with httpx.AsyncClient(timeout=bounds.timeout_s, limits=limits, trust_env=False) as client:
        await asyncio.gather(*(one(client, m) for m in miners))
    return total


def rows_reset() -> None:
    ReceiptRecord.objects.all().delete()
    ReceiptPull.objects.all().delete()
    ReceiptCursor.objects.all().delete()


def one_run(miners: list[Miner], expected: int) -> tuple[float, float, float, PullSummary, dict[str, int]]:
    rows_reset()
    connections.close_all()
    started = time.perf_counter()
    fetched = asyncio.run(baseline(miners))
    baseline_s = time.perf_counter() - started
    assert fetched == expected, fetched
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with instrumented():
        summary = receipts_pull_all_sync()
    pull_s = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert summary is not None
    rows = {
        "ReceiptRecord": ReceiptRecord.objects.count(),
        "ReceiptPull": ReceiptPull.objects.count(),
        "ReceiptCursor": ReceiptCursor.objects.count(),
    }
    return baseline_s, pull_s, cpu_s, summary, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--receipts", type=int, default=100_000)
    parser.add_argument("--miners", type=int, default=20)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    database_create()
    proc = None
    try:
        proc, served = miners_start(args)
        chain = LocalChain()
        chain.register(hotkey=served["validator"], coldkey=served["validator"], role=Role.VALIDATOR)
        chain.add_stake(hotkey=served["validator"], amount=settings.MIN_VALIDATOR_STAKE)
        miners = Miner.objects.bulk_create(
            Miner(hotkey=m["hotkey"], address=m["address"], coldkey=f"cold-{i}") for i, m in enumerate(served["miners"])
        )
        results = []
        for _ in range(args.runs):
            STEPS.clear()
            results.append((*one_run(miners, args.receipts), dict(STEPS)))
        report(args, results)
    finally:
        if proc is not None:
            proc.communicate(input="", timeout=30)
        connections.close_all()
        drop_databases([DB_NAME])


def report(args: argparse.Namespace, results: list[Any]) -> None:
    baselines = [r[0] for r in results]
    pulls = [r[1] for r in results]
    pull_s, baseline_s = statistics.median(pulls), statistics.median(baselines)
    _, _, cpu_s, summary, rows, steps = results[pulls.index(sorted(pulls)[len(pulls) // 2])]
    print(f"receipts: {args.receipts:,} from {args.miners} miners, {args.page_size} a page, {args.runs} runs (median)")
    print(f"pull + verify + store:  {pull_s:7.2f} s   {args.receipts / pull_s:10,.0f} receipts/s   CPU {cpu_s:.2f} s")
    print(f"baseline (HTTP + JSON): {baseline_s:7.2f} s   {args.receipts / baseline_s:10,.0f} receipts/s")
    print(f"ratio pull / baseline:  {pull_s / baseline_s:7.1f} ×")
    print("  runs (pull s): " + ", ".join(f"{p:.2f}" for p in pulls))
    for name, seconds in steps.items():
        print(f"  {name:<20} {seconds:7.2f} s summed over pages ({seconds / args.receipts * 1e6:.0f} µs a receipt)")
    print(f"summary: accepted {summary.accepted:,}, duplicates {summary.duplicates}, refused {summary.refused},")
    print(f"         pages {summary.pages}, failed miners {summary.failed}")
    total = sum(rows.values())
    print(f"DB rows written: {total:,} = " + " + ".join(f"{n:,} {name}" for name, n in rows.items()))


if __name__ == "__main__":
    main()
