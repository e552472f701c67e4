"""A whole benchmark run. Every miner is dialed and its manifest read first; then each phase
(proof-of-work, then matmul) starts on every executor of every miner at the same moment, so one
machine cannot answer for several executors or several hotkeys in time."""

import asyncio
import dataclasses
import logging
import secrets
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings

from executor.selectors import executor_class_list
from protocol.handshake import NonceStore
from protocol.keys import Hotkey
from protocol.messages.benchmarks import BenchmarkKind, CheckReason, ExecutorRef
from protocol.messages.manifest import ManifestMessage
from validator.cycle.manifest_checks import MANIFEST, manifests_check
from validator.cycle.plan import ClassInfo, Planned, plan_challenge
from validator.cycle.session import PhaseSession
from validator.miner_links import MinerLink, MinerLinks
from validator.models import BenchmarkCycle, Miner
from validator.selectors import miners_for_job, miners_with_a_pass, organic_jobs_running, pow_difficulties
from validator.services.benchmarks import (
    CheckOutcome,
    benchmark_checks_record,
    benchmark_cycle_claim,
    benchmark_cycle_finish,
    miner_cycle_record,
    miner_manifest_record,
    pow_difficulty_adapt,
)

logger = logging.getLogger(__name__)
PHASES = (BenchmarkKind.POW, BenchmarkKind.MATMUL)


@dataclass
class MinerRun:
    miner: Miner
    link: MinerLink | None = None
    manifest: ManifestMessage | None = None
    newcomer: bool = True
    executors: list[tuple[ExecutorRef, ClassInfo]] = field(default_factory=list)
    difficulty: dict[str, int] = field(default_factory=dict)
    busy_ours: int = 0  # executors running this validator's own jobs


@dataclass
class RunSummary:
    number: int
    kind: str
    miners: int = 0
    checks: int = 0
    passed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


def class_infos() -> dict[str, ClassInfo]:
    """The subnet's active classes (the catalogue, as synced into this node's table)."""
    return {
        c.name: ClassInfo(
            name=c.name,
            cpus=c.cpus,
            memory_mb=c.memory_mb,
            gpu_count=c.gpu_count,
            gpu_model=c.gpu_model,
            gpu_memory_mb=c.gpu_memory_mb,
            spin_up_s=c.spin_up_s,
            matmul_n=c.matmul_n,
            pow_difficulty=c.pow_difficulty,
            pow_count=c.pow_count,
            reference_seconds={str(k): float(v) for k, v in (c.reference_seconds or {}).items()},
        )
        for c in executor_class_list()
    }


def _miners(only: set[str] | None) -> list[Miner]:
    miners = miners_for_job(exclude=set())
    return [m for m in miners if only is None or m.hotkey in only]


async def benchmark_run(
    *, number: int, kind: BenchmarkCycle.Kind, hotkey: Hotkey, nonces: NonceStore, only: set[str] | None = None
) -> RunSummary | None:
    """None when another worker already ran (or runs) this one."""
    cycle = await sync_to_async(benchmark_cycle_claim)(number=number, kind=kind)
    if cycle is None:
        return None
    summary = RunSummary(number=number, kind=str(kind))
    links = MinerLinks(hotkey=hotkey, nonces=nonces)
    secret = secrets.token_bytes(32)
    try:
        runs = [MinerRun(miner=m) for m in await sync_to_async(_miners)(only)]
        summary.miners = len(runs)
        await _connect_all(runs, links)
        await sync_to_async(_prepare)(cycle, runs)
        verify = asyncio.Semaphore(settings.VALIDATOR_VERIFY_THREADS)
        for phase in PHASES:
            outcomes = await _phase(phase, number, secret, runs, verify)
            await sync_to_async(_record_phase)(cycle, phase, runs, outcomes, summary)
    finally:
        await links.close_all()
        await sync_to_async(benchmark_cycle_finish)(cycle=cycle, secret=secret)
    logger.info("benchmark %s %s: %s", kind, number, summary)
    return summary


async def _connect_all(runs: list[MinerRun], links: MinerLinks) -> None:
    gate = asyncio.Semaphore(settings.VALIDATOR_BENCH_DIAL_CONCURRENCY)

    async def connect(run: MinerRun) -> None:
        async with gate:
            try:
                run.link = await links.get(miner_hotkey=run.miner.hotkey, address=run.miner.address)
                await asyncio.wait_for(run.link.manifest_received.wait(), settings.VALIDATOR_MANIFEST_TIMEOUT_S)
                run.manifest = run.link.manifest
            except Exception as exc:  # unreachable, refused, silent: recorded as no answer
                logger.info("benchmark: miner %s unreachable: %s: %s", run.miner.hotkey, type(exc).__name__, exc)

    await asyncio.gather(*(connect(r) for r in runs))


def _prepare(cycle: BenchmarkCycle, runs: list[MinerRun]) -> None:
    """Store the manifests this run holds miners to, refute what they cannot back, and load
    per-miner state (newcomer or not, proof-of-work difficulty, our own jobs on it)."""
    classes = class_infos()
    manifests = {r.miner.hotkey: r.manifest for r in runs if r.manifest is not None}
    verdicts = manifests_check(
        manifests=manifests, classes=classes, flag_engines=settings.VALIDATOR_FLAG_SHARED_ENGINES
    )
    ids = [r.miner.id for r in runs]
    passed_before, difficulties, busy = (
        miners_with_a_pass(miner_ids=ids),
        pow_difficulties(miner_ids=ids),
        organic_jobs_running(miner_ids=ids),
    )
    for run in runs:
        run.newcomer = run.miner.id not in passed_before
        run.busy_ours = busy.get(run.miner.id, 0)
        if run.manifest is None:
            reason, detail = CheckReason.NO_ANSWER, "no connection or no manifest"
            if run.link is not None and run.link.last_refused:
                reason, detail = CheckReason.MALFORMED, f"its manifest was refused: {run.link.last_refused}"
            miner_cycle_record(
                cycle=cycle, miner=run.miner, manifest=None, newcomer=run.newcomer, reason=reason, detail=detail
            )
            benchmark_checks_record(
                cycle=cycle, miner=run.miner, outcomes=[CheckOutcome("", "", MANIFEST, reason, detail)]
            )
            continue
        stored = miner_manifest_record(miner=run.miner, manifest=run.manifest)
        miner_cycle_record(cycle=cycle, miner=run.miner, manifest=stored, newcomer=run.newcomer)
        verdict = verdicts[run.miner.hotkey]
        benchmark_checks_record(cycle=cycle, miner=run.miner, outcomes=verdict.checks)
        run.executors = verdict.executors
        for cls, info in {info.name: info for _, info in verdict.executors}.items():
            run.difficulty[cls] = difficulties.get((run.miner.id, cls), info.pow_difficulty)


async def _phase(
    phase: BenchmarkKind, number: int, secret: bytes, runs: list[MinerRun], verify: asyncio.Semaphore
) -> dict[int, list[CheckOutcome]]:
    sessions: dict[int, PhaseSession] = {}
    outcomes: dict[int, list[CheckOutcome]] = {}
    for run in runs:
        if run.link is None or not run.executors:
            continue
        planned: list[Planned] = []
        skipped: list[CheckOutcome] = []
        for ref, info in run.executors:
            p = plan_challenge(
                benchmark=phase,
                executor=ref,
                info=info,
                secret=secret,
                miner_hotkey=run.miner.hotkey,
                cycle=number,
                difficulty=run.difficulty.get(info.name, info.pow_difficulty),
                newcomer=run.newcomer,
            )
            if p is None:
                detail = f"class {info.name} has no {phase} reference figure (run manage.py calibrate_class)"
                skipped.append(CheckOutcome(ref.key(), info.name, str(phase), CheckReason.UNCALIBRATED, detail))
            else:
                planned.append(p)
        outcomes[run.miner.id] = skipped
        sessions[run.miner.id] = PhaseSession(link=run.link, cycle=number, planned=planned, verify=verify)
    # The same moment for everyone: every session sends its start before any waits for answers.
    results = await asyncio.gather(*(s.run() for s in sessions.values()))
    for miner_id, result in zip(sessions, results, strict=True):
        outcomes[miner_id] += result
    return outcomes


def _ours_busy(outcomes: list[CheckOutcome], ours: int) -> list[CheckOutcome]:
    """A "busy" answer is fair for as many executors as run this validator's own jobs."""
    fixed = []
    for o in outcomes:
        if o.reason == CheckReason.DECLINED_BUSY and ours > 0:
            ours -= 1
            o = dataclasses.replace(o, reason=CheckReason.BUSY, detail="running one of this validator's jobs")
        fixed.append(o)
    return fixed


def _record_phase(
    cycle: BenchmarkCycle,
    phase: BenchmarkKind,
    runs: list[MinerRun],
    outcomes: dict[int, list[CheckOutcome]],
    summary: RunSummary,
) -> None:
    for run in runs:
        mine = _ours_busy(outcomes.get(run.miner.id, []), run.busy_ours)
        if not mine:
            continue
        benchmark_checks_record(cycle=cycle, miner=run.miner, outcomes=mine)
        summary.checks += len(mine)
        summary.passed += sum(o.passed for o in mine)
        for o in mine:
            summary.reasons[str(o.reason)] = summary.reasons.get(str(o.reason), 0) + 1
        if phase == BenchmarkKind.POW:
            _adapt_difficulty(run, mine)


def _adapt_difficulty(run: MinerRun, outcomes: list[CheckOutcome]) -> None:
    spread = settings.VALIDATOR_POW_DIFFICULTY_RANGE
    for cls, current in run.difficulty.items():
        base = next(info.pow_difficulty for _, info in run.executors if info.name == cls)
        pow_difficulty_adapt(
            miner=run.miner,
            executor_class=cls,
            current=current,
            low=max(1, base - spread),
            high=min(40, base + spread),
            outcomes=[o for o in outcomes if o.executor_class == cls],
        )
