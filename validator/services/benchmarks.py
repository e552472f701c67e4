"""Writes of a benchmark run: claiming it, the manifests it used, its checks, and the proof-of-work
difficulty that adapts per miner. Each write is O(miners) or O(executors) rows, in bulk."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from protocol.messages.benchmarks import CheckReason
from protocol.messages.manifest import ManifestMessage
from validator.models import BenchmarkCheck, BenchmarkCycle, Miner, MinerCycle, MinerManifest, PowDifficulty


@dataclass(frozen=True)
class CheckOutcome:
    """One check as the cycle decided it; `passed` follows from the reason."""

    executor: str
    executor_class: str
    benchmark: str
    reason: CheckReason
    detail: str = ""
    seconds: float | None = None
    deadline_s: float | None = None
    efficiency: float | None = None
    params: dict[str, object] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.reason == CheckReason.PASSED


def benchmark_cycle_claim(*, number: int, kind: BenchmarkCycle.Kind) -> BenchmarkCycle | None:
    """The run, or None when another worker already claimed it (the insert is the claim)."""
    try:
        with transaction.atomic():
            return BenchmarkCycle.objects.create(number=number, kind=kind)
    except IntegrityError:
        return None


def benchmark_cycle_finish(*, cycle: BenchmarkCycle, secret: bytes) -> None:
    BenchmarkCycle.objects.filter(id=cycle.id, finished_at=None).update(finished_at=timezone.now(), secret=secret.hex())


def manifest_digest(manifest: ManifestMessage) -> str:
    return hashlib.sha256(json.dumps(manifest.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def miner_manifest_record(*, miner: Miner, manifest: ManifestMessage) -> MinerManifest:
    """Stores a manifest unless it is the one we hold already (a reconnect resends it)."""
    digest = manifest_digest(manifest)
    last = MinerManifest.objects.filter(miner=miner).order_by("-received_at", "-id").first()
    if last is not None and last.digest == digest:
        return last
    return MinerManifest.objects.create(
        miner=miner, payload=manifest.model_dump(mode="json"), totals=manifest.totals(), digest=digest
    )


def miner_cycle_record(
    *,
    cycle: BenchmarkCycle,
    miner: Miner,
    manifest: MinerManifest | None,
    newcomer: bool,
    reason: str = "",
    detail: str = "",
) -> MinerCycle:
    record, _ = MinerCycle.objects.update_or_create(
        cycle=cycle,
        miner=miner,
        defaults={"manifest": manifest, "newcomer": newcomer, "reason": reason, "detail": detail[:4000]},
    )
    return record


def benchmark_checks_record(*, cycle: BenchmarkCycle, miner: Miner, outcomes: Sequence[CheckOutcome]) -> int:
    """One bulk insert per miner; a check already recorded for the run is kept (first verdict wins)."""
    rows = [
        BenchmarkCheck(
            cycle=cycle,
            miner=miner,
            passed=o.passed,
            **{k: v for k, v in asdict(o).items() if k not in ("reason", "detail")},
            reason=str(o.reason),
            detail=o.detail[:4000],
        )
        for o in outcomes
    ]
    return len(BenchmarkCheck.objects.bulk_create(rows, ignore_conflicts=True))


FAST_EFFICIENCY = 1.25  # reference / measured


def pow_difficulty_adapt(
    *, miner: Miner, executor_class: str, current: int, low: int, high: int, outcomes: Sequence[CheckOutcome]
) -> int:
    """One step per run, within [low, high]: harder when every answer beat the class's reference
    by `FAST_EFFICIENCY` (faster hardware than the class's, measured against the reference rather
    than the deadline, which a newcomer's extension would make easy to beat), easier when any was
    late. Wrong answers do not move it: they are failures anyway."""
    answered = [o for o in outcomes if o.reason != CheckReason.BUSY]
    if any(o.reason == CheckReason.LATE for o in answered):
        new = current - 1
    elif answered and all(o.passed and (o.efficiency or 0) >= FAST_EFFICIENCY for o in answered):
        new = current + 1
    else:
        new = current
    new = max(low, min(high, new))
    PowDifficulty.objects.update_or_create(miner=miner, executor_class=executor_class, defaults={"difficulty": new})
    return new
