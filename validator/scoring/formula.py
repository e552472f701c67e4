"""The score formula (ComputeHorde's), pure: no Django, no I/O, so it can be tested and explained alone.

points[class] = class value × efficiency × (organic + benchmark seconds) × multiplier, where the
multiplier is the product of the class's penalty factors (a penalty on class "" applies to every
class of the miner). Hotkeys of one coldkey are one operator: the group's points are summed, its
main hotkey gets `main_share` of them and the others share the rest in proportion to their points,
so splitting one operator's work over many hotkeys gains nothing."""

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FAILED_REASONS = frozenset({"late", "no_answer", "executor_failed", "malformed"})
CHEAT_REASONS = frozenset({"wrong_answer", "bad_proof", "over_claimed", "duplicate_host"})
# Not the miner's doing (or judged by another penalty): out of the failed share's denominator.
UNCOUNTED_REASONS = frozenset({"busy", "uncalibrated", "unknown_class", "declined_busy"})
ALL_CLASSES = ""  # a penalty's executor_class when it applies to the whole miner
# Storage scores as a class of its own (docs/storage.md): claimed = bytes placed on the miner,
# verified = bytes whose latest audit in the window passed, value = points per GB proven.
STORAGE_CLASS = "storage"
STORAGE_CHEAT_REASONS = frozenset({"bad_proof", "wrong_chunks"})


class PenaltyReason(enum.StrEnum):
    FAILED_CHECKS = "failed_checks"
    CHEATED = "cheated"
    DECLINED_WHILE_FREE = "declined_while_free"
    MANIFEST_CHURN = "manifest_churn"
    STORAGE_AUDITS_FAILED = "storage_audits_failed"


@dataclass(frozen=True)
class ClassInputs:
    executor_class: str
    claimed: int = 0
    verified: int = 0
    efficiency: float = 1.0  # 1 until benchmarked
    organic_seconds: float = 0.0
    benchmark_seconds: float = 0.0  # already × the benchmark value


@dataclass(frozen=True)
class MinerInputs:
    hotkey: str
    coldkey: str = ""
    classes: Mapping[str, ClassInputs] = field(default_factory=dict)
    check_reasons: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # class ("" = host) → reason → n
    declined_free: Mapping[str, int] = field(default_factory=dict)  # class → busy declines while free
    manifests: int = 0  # manifests received in the window
    storage_placed_bytes: int = 0
    storage_proven_bytes: int = 0
    storage_audits: Mapping[str, int] = field(default_factory=dict)  # reason ("" = passed) → n in the window


@dataclass(frozen=True)
class Params:
    values: Mapping[str, float]  # class → relative value (ExecutorClass.weight); unknown classes are worth 0
    failed_checks: float = 0.5
    cheat_factor: float = 0.0
    declined_free: float = 0.1
    manifest_change: float = 0.1
    manifests_allowed: int = 1
    main_share: float = 0.8
    storage_per_gb: float = 0.0


@dataclass(frozen=True)
class Penalty:
    reason: PenaltyReason
    detail: str
    executor_class: str
    factor: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": str(self.reason),
            "detail": self.detail,
            "executor_class": self.executor_class,
            "factor": self.factor,
        }


@dataclass(frozen=True)
class ClassScore:
    inputs: ClassInputs
    value: float
    multiplier: float
    points: float

    def as_dict(self) -> dict[str, Any]:
        i = self.inputs
        return {
            "executor_class": i.executor_class,
            "claimed": i.claimed,
            "verified": i.verified,
            "value": self.value,
            "efficiency": i.efficiency,
            "multiplier": self.multiplier,
            "organic_seconds": i.organic_seconds,
            "benchmark_seconds": i.benchmark_seconds,
            "points": self.points,
        }


@dataclass(frozen=True)
class Grouping:
    coldkey_points: float
    share: float
    main_hotkey: str

    def as_dict(self) -> dict[str, Any]:
        return {"coldkey_points": self.coldkey_points, "share": self.share, "main_hotkey": self.main_hotkey}


@dataclass(frozen=True)
class MinerResult:
    hotkey: str
    coldkey: str
    points: float
    score: float
    classes: list[ClassScore]
    penalties: list[Penalty]
    grouping: Grouping


def penalties_compute(miner: MinerInputs, params: Params) -> list[Penalty]:
    """Every penalty the miner earned, in a stable order (class, then reason)."""
    out: list[Penalty] = []
    for cls, reasons in sorted(miner.check_reasons.items()):
        counted = sum(n for reason, n in reasons.items() if reason not in UNCOUNTED_REASONS)
        failed = {r: n for r, n in sorted(reasons.items()) if r in FAILED_REASONS and n}
        if failed and counted:
            share = sum(failed.values()) / counted
            listed = ", ".join(f"{r} {n}" for r, n in failed.items())
            factor = max(0.0, 1.0 - params.failed_checks * share)
            detail = f"{sum(failed.values())} of {counted} checks failed ({listed})"
            out.append(Penalty(PenaltyReason.FAILED_CHECKS, detail, cls, factor))
        cheats = {r: n for r, n in sorted(reasons.items()) if r in CHEAT_REASONS and n}
        if cheats:
            listed = ", ".join(f"{r} {n}" for r, n in cheats.items())
            out.append(Penalty(PenaltyReason.CHEATED, listed, cls, params.cheat_factor))
    for cls, n in sorted(miner.declined_free.items()):
        if n:
            factor = max(0.0, 1.0 - params.declined_free * n)
            detail = f"{n} busy declines while its verified executors were not all running jobs"
            out.append(Penalty(PenaltyReason.DECLINED_WHILE_FREE, detail, cls, factor))
    out += _storage_penalties(miner, params)
    excess = miner.manifests - params.manifests_allowed
    if excess > 0:
        factor = max(0.0, 1.0 - params.manifest_change * excess)
        detail = f"{miner.manifests} manifests in the cycle, {params.manifests_allowed} allowed"
        out.append(Penalty(PenaltyReason.MANIFEST_CHURN, detail, ALL_CLASSES, factor))
    return out


def _storage_penalties(miner: MinerInputs, params: Params) -> list[Penalty]:
    """Failed audits weigh like failed checks; an answer that does not prove (dropped, corrupted,
    regenerated or another's copy) like a cheat. Both apply to the storage points only."""
    audits = miner.storage_audits
    total = sum(audits.values())
    failed = {r: n for r, n in sorted(audits.items()) if r and n}
    out: list[Penalty] = []
    if failed and total:
        listed = ", ".join(f"{r} {n}" for r, n in failed.items())
        factor = max(0.0, 1.0 - params.failed_checks * sum(failed.values()) / total)
        detail = f"{sum(failed.values())} of {total} storage audits failed ({listed})"
        out.append(Penalty(PenaltyReason.STORAGE_AUDITS_FAILED, detail, STORAGE_CLASS, factor))
    cheats = {r: n for r, n in failed.items() if r in STORAGE_CHEAT_REASONS}
    if cheats:
        listed = ", ".join(f"{r} {n}" for r, n in cheats.items())
        out.append(Penalty(PenaltyReason.CHEATED, listed, STORAGE_CLASS, params.cheat_factor))
    return out


def _storage_score(miner: MinerInputs, penalties: list[Penalty], params: Params) -> ClassScore | None:
    if not miner.storage_placed_bytes and not miner.storage_proven_bytes:
        return None
    inputs = ClassInputs(STORAGE_CLASS, claimed=miner.storage_placed_bytes, verified=miner.storage_proven_bytes)
    multiplier = math.prod(p.factor for p in penalties if p.executor_class in (STORAGE_CLASS, ALL_CLASSES))
    points = params.storage_per_gb * miner.storage_proven_bytes / 1e9 * multiplier
    return ClassScore(inputs, params.storage_per_gb, multiplier, points)


def classes_score(miner: MinerInputs, penalties: Iterable[Penalty], params: Params) -> list[ClassScore]:
    listed = list(penalties)
    out = []
    for cls, inputs in sorted(miner.classes.items()):
        multiplier = math.prod(p.factor for p in listed if p.executor_class in (cls, ALL_CLASSES))
        value = float(params.values.get(cls, 0.0))
        seconds = inputs.organic_seconds + inputs.benchmark_seconds
        out.append(ClassScore(inputs, value, multiplier, value * inputs.efficiency * seconds * multiplier))
    storage = _storage_score(miner, listed, params)
    return out if storage is None else [*out, storage]


def coldkey_group(points: Mapping[str, tuple[str, float]], main_share: float) -> dict[str, tuple[float, Grouping]]:
    """{hotkey: (coldkey, points)} → {hotkey: (score, grouping)}. A coldkey's scores add up to its
    points: the main hotkey (most points; ties → smallest hotkey) gets `main_share`, the others the
    rest by their points (all of it to the main one when the others have none). "" = no coldkey."""
    groups: dict[str, list[str]] = {}
    for hotkey, (coldkey, _) in points.items():
        groups.setdefault(coldkey or f"hotkey:{hotkey}", []).append(hotkey)
    out: dict[str, tuple[float, Grouping]] = {}
    for members in groups.values():
        total = sum(points[h][1] for h in members)
        main = min(members, key=lambda h: (-points[h][1], h))
        others = sum(points[h][1] for h in members if h != main)
        for hotkey in members:
            if hotkey == main:
                share = 1.0 if others <= 0 else main_share
            else:
                share = 0.0 if others <= 0 else (1.0 - main_share) * points[hotkey][1] / others
            out[hotkey] = (total * share, Grouping(coldkey_points=total, share=share, main_hotkey=main))
    return out


def scores_compute(miners: Iterable[MinerInputs], params: Params) -> list[MinerResult]:
    """Each miner's classes, penalties, points and (coldkey-grouped) score, by hotkey."""
    partial = []
    for miner in miners:
        penalties = penalties_compute(miner, params)
        classes = classes_score(miner, penalties, params)
        partial.append((miner, classes, penalties, sum(c.points for c in classes)))
    grouped = coldkey_group({m.hotkey: (m.coldkey, pts) for m, _, _, pts in partial}, params.main_share)
    results = [
        MinerResult(m.hotkey, m.coldkey, pts, grouped[m.hotkey][0], classes, penalties, grouped[m.hotkey][1])
        for m, classes, penalties, pts in partial
    ]
    return sorted(results, key=lambda r: r.hotkey)


def weights_normalise(scores: Mapping[str, float]) -> dict[str, float]:
    """Scores scaled to sum 1; empty when nothing scored."""
    total = sum(max(0.0, s) for s in scores.values())
    if total <= 0:
        return {}
    return {hotkey: max(0.0, s) / total for hotkey, s in sorted(scores.items())}
