"""What cycle N's scores are made of, per miner and class, gathered over the window
[N × length, (N + 1) × length) in a fixed number of queries (never one per miner).

- claimed / verified / efficiency / benchmark seconds: the cycle's benchmark run numbered N (for a
  miner only in that number's newcomer run, that one), as `validator.selectors.verified_counts` reads it.
- organic seconds, from verified receipts of organic jobs by ANY validator (own and pulled): a job
  is credited in the window the seconds of its interval receipts signed in it, plus, if its
  `job_finished` is in it and the miner is not to blame (`outcome` not `infrastructure`), the rest
  of its finished seconds (finished − Σ all its intervals, ≥ 0). Over cycles a job is credited
  exactly its finished seconds, and a job that died keeps its intervals.
- busy declines at a moment every validator's receipts show fewer jobs running on that miner in
  that class than its verified executors (`busy.py`)."""

import statistics
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Count, Q, Subquery, Sum

from executor.selectors import executor_class_list
from protocol.messages.benchmarks import CheckReason
from protocol.receipts import JobKind, Outcome, ReceiptKind
from validator.models import (
    BenchmarkCheck,
    BenchmarkCycle,
    Miner,
    MinerCycle,
    MinerManifest,
    ReceiptRecord,
    ShareAudit,
    SharePlacement,
)
from validator.scoring.busy import Moment, declines_while_free
from validator.scoring.formula import ClassInputs, MinerInputs, Params
from validator.selectors import EXECUTOR_BENCHMARKS, CheckVerdict, verified_counts


def scoring_params(*, window_s: float) -> Params:
    """The formula's parameters from settings and the catalogue's class values."""
    return Params(
        values={c.name: float(c.weight) for c in executor_class_list(active_only=False)},
        failed_checks=settings.VALIDATOR_PENALTY_FAILED_CHECKS,
        cheat_factor=settings.VALIDATOR_PENALTY_CHEAT_FACTOR,
        declined_free=settings.VALIDATOR_PENALTY_DECLINED_FREE,
        manifest_change=settings.VALIDATOR_PENALTY_MANIFEST_CHANGE,
        manifests_allowed=1 + int(window_s // settings.VALIDATOR_MANIFEST_MIN_INTERVAL_S),
        main_share=settings.VALIDATOR_SCORE_MAIN_HOTKEY_SHARE,
        storage_per_gb=settings.STORAGE_SCORE_PER_GB,
    )


class _RunInputs:
    """One miner's part of its benchmark run: claims, verdicts, efficiencies, seconds, reasons."""

    def __init__(self) -> None:
        self.claimed: dict[str, int] = {}
        self.verdicts: list[CheckVerdict] = []
        self.efficiencies: dict[str, list[float]] = defaultdict(list)
        self.seconds: dict[str, float] = defaultdict(float)
        self.reasons: dict[str, Counter[str]] = defaultdict(Counter)
        self.declined_at: list[Moment] = []


def _chosen_runs(number: int) -> tuple[dict[int, int], dict[int, dict[str, int]]]:
    """Per miner, the run numbered N that counts (the cycle's, else the newcomer run), and the
    manifest totals each (miner, run) was held to."""
    rows = MinerCycle.objects.filter(cycle__number=number).values_list(
        "miner_id", "cycle_id", "cycle__kind", "manifest__totals"
    )
    chosen: dict[int, int] = {}
    claimed: dict[int, dict[str, int]] = {}
    for miner_id, cycle_id, kind, totals in rows.order_by():
        if miner_id not in chosen or kind == BenchmarkCycle.Kind.CYCLE:
            chosen[miner_id] = cycle_id
            claimed[miner_id] = {str(k): int(v) for k, v in (totals or {}).items()}
    return chosen, claimed


def _runs(number: int) -> dict[int, _RunInputs]:
    chosen, claimed = _chosen_runs(number)
    out: dict[int, _RunInputs] = {}
    checks = BenchmarkCheck.objects.filter(cycle__number=number).order_by()
    cap = float(settings.VALIDATOR_EFFICIENCY_CAP)
    value = float(settings.VALIDATOR_SCORE_BENCHMARK_VALUE)
    for row in checks.values_list(
        "miner_id", "cycle_id", "executor", "executor_class", "benchmark", "passed", "reason", "seconds",
        "efficiency", "created_at",
    ):  # fmt: skip
        miner_id, cycle_id, executor, cls, benchmark, passed, reason, seconds, efficiency, created_at = row
        if chosen.get(miner_id, cycle_id) != cycle_id:
            continue  # the newcomer run of a miner the cycle's run included too
        run = out.setdefault(miner_id, _RunInputs())
        run.verdicts.append(CheckVerdict(executor=executor, executor_class=cls, benchmark=benchmark, passed=passed))
        run.reasons[cls][reason] += 1
        if reason == CheckReason.DECLINED_BUSY:
            run.declined_at.append(Moment(miner_id, cls, created_at))
        if passed and benchmark in EXECUTOR_BENCHMARKS:
            if efficiency is not None:
                run.efficiencies[cls].append(min(float(efficiency), cap))
            run.seconds[cls] += float(seconds or 0.0) * value
    for miner_id, totals in claimed.items():
        out.setdefault(miner_id, _RunInputs()).claimed = totals
    return out


def organic_seconds(*, window_start: datetime, window_end: datetime) -> dict[tuple[int, str], float]:
    """{(miner id, class): executor-seconds credited in the window} from every validator's receipts."""
    in_window = Q(at__gte=window_start, at__lt=window_end)
    organic = ReceiptRecord.objects.filter(job_kind=JobKind.ORGANIC).order_by()
    finished_here = organic.filter(in_window, kind=ReceiptKind.JOB_FINISHED).values("job_uuid")
    rows = organic.filter(kind__in=[ReceiptKind.INTERVAL, ReceiptKind.JOB_FINISHED]).filter(
        in_window | Q(kind=ReceiptKind.INTERVAL, job_uuid__in=Subquery(finished_here))
    )
    # Per (job, miner): a job retried elsewhere has receipts from each miner it ran on.
    jobs: dict[tuple[UUID, int], dict[str, Any]] = {}
    for job_uuid, kind, miner_id, cls, at, seconds, outcome in rows.values_list(
        "job_uuid", "kind", "miner_id", "executor_class", "at", "seconds", "outcome"
    ):
        empty = {"key": (miner_id, cls), "here": 0.0, "all": 0.0, "finished": None}
        job = jobs.setdefault((job_uuid, miner_id), empty)
        if kind == ReceiptKind.INTERVAL:
            job["all"] += float(seconds or 0.0)
            if window_start <= at < window_end:
                job["here"] += float(seconds or 0.0)
        elif outcome != Outcome.INFRASTRUCTURE:
            job["finished"] = float(seconds or 0.0)
    credited: dict[tuple[int, str], float] = defaultdict(float)
    for job in jobs.values():
        rest = 0.0 if job["finished"] is None else max(0.0, job["finished"] - job["all"])
        credited[job["key"]] += job["here"] + rest
    return dict(credited)


def _manifests_received(*, window_start: datetime, window_end: datetime) -> dict[int, int]:
    rows = MinerManifest.objects.filter(received_at__gte=window_start, received_at__lt=window_end).order_by()
    return {r["miner_id"]: r["n"] for r in rows.values("miner_id").annotate(n=Count("id"))}


def storage_inputs(*, window_start: datetime, window_end: datetime) -> dict[int, dict[str, Any]]:
    """Per miner: bytes placed on it (live), bytes proven (live, latest audit passed within the
    window) and its audits in the window by reason ("" = passed)."""
    out: dict[int, dict[str, Any]] = defaultdict(lambda: {"storage_audits": {}})
    live = SharePlacement.objects.filter(status=SharePlacement.Status.LIVE)
    for row in live.values("miner_id").annotate(total=Sum("size")):
        out[row["miner_id"]]["storage_placed_bytes"] = int(row["total"])
    proven = live.filter(consecutive_failures=0, last_passed_at__gte=window_start, last_passed_at__lte=window_end)
    for row in proven.values("miner_id").annotate(total=Sum("size")):
        out[row["miner_id"]]["storage_proven_bytes"] = int(row["total"])
    audits = ShareAudit.objects.filter(at__gte=window_start, at__lt=window_end)
    for row in audits.values("placement__miner_id", "reason").annotate(n=Count("id")):
        out[row["placement__miner_id"]]["storage_audits"][row["reason"]] = int(row["n"])
    return dict(out)


def scoring_inputs_gather(*, number: int, window_start: datetime, window_end: datetime) -> list[MinerInputs]:
    """Every active miner, and every other miner with something to score in cycle N, by hotkey."""
    runs = _runs(number)
    organic = organic_seconds(window_start=window_start, window_end=window_end)
    manifests = _manifests_received(window_start=window_start, window_end=window_end)
    verified = {miner_id: verified_counts(verdicts=run.verdicts) for miner_id, run in runs.items()}
    free = declines_while_free(
        window_start=window_start,
        window_end=window_end,
        benchmark_declines=[m for run in runs.values() for m in run.declined_at],
        verified=verified,
    )
    storage = storage_inputs(window_start=window_start, window_end=window_end)
    referenced = set(runs) | {miner_id for miner_id, _ in organic} | set(manifests) | {m for m, _ in free}
    referenced |= set(storage)
    organic_classes: dict[int, set[str]] = defaultdict(set)
    for miner_id, cls in organic:
        organic_classes[miner_id].add(cls)
    free_by_miner: dict[int, dict[str, int]] = defaultdict(dict)
    for (miner_id, cls), n in free.items():
        free_by_miner[miner_id][cls] = n
    miners = Miner.objects.filter(Q(is_active=True) | Q(id__in=referenced)).order_by("hotkey")
    out = []
    for miner_id, hotkey, coldkey in miners.values_list("id", "hotkey", "coldkey"):
        run = runs.get(miner_id, _RunInputs())
        counts = verified.get(miner_id, {})
        names = set(run.claimed) | set(counts) | set(run.seconds) | organic_classes[miner_id]
        classes = {
            cls: ClassInputs(
                executor_class=cls,
                claimed=run.claimed.get(cls, 0),
                verified=counts.get(cls, 0),
                efficiency=statistics.median(run.efficiencies[cls]) if run.efficiencies.get(cls) else 1.0,
                organic_seconds=round(organic.get((miner_id, cls), 0.0), 6),
                benchmark_seconds=round(run.seconds.get(cls, 0.0), 6),
            )
            for cls in sorted(names - {""})
        }
        out.append(
            MinerInputs(
                hotkey=hotkey,
                coldkey=coldkey,
                classes=classes,
                check_reasons={cls: dict(reasons) for cls, reasons in run.reasons.items()},
                declined_free=free_by_miner[miner_id],
                manifests=manifests.get(miner_id, 0),
                **storage.get(miner_id, {}),
            )
        )
    return out
