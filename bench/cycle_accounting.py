"""What a cycle writes to the validator's database: row counts per table before and after the
benchmark run and the scoring of that cycle (bench/cycle.py), so "O(miners) accounting per cycle"
is a figure, not a claim. Exact counts (count(*)) over the validator's tables of a scratch database."""

import time
from collections.abc import Mapping

from django.apps import apps
from django.db import connection

from validator.scoring.tick import score_cycle


def table_counts() -> dict[str, int]:
    tables = sorted(m._meta.db_table for m in apps.get_app_config("validator").get_models())
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = int(cursor.fetchone()[0])
    return counts


def written(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    return {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}


def score_the_cycle(*, number: int, length: float) -> tuple[float, dict[str, int]]:
    """Scores cycle `number` as the beat task would (receipts: what the database holds; the pull is
    measured by bench/receipts.py); returns (wall seconds, rows written per table)."""
    before = table_counts()
    started = time.perf_counter()
    summary = score_cycle(number=number, length=length, pull=lambda: None)
    wall = time.perf_counter() - started
    assert summary is not None, "the cycle was already scored"
    return wall, written(before, table_counts())


def rows_report(label: str, rows: Mapping[str, int], miners: int) -> None:
    total = sum(rows.values())
    print(f"rows written by {label}: {total} ({total / max(1, miners):.1f} per miner)")
    for table, count in sorted(rows.items(), key=lambda kv: -kv[1]):
        print(f"  {table:<34} {count:>7}")
