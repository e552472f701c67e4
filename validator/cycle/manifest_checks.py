"""What a manifest claims that can be refuted before any benchmark runs: classes outside the
catalogue, more executors than the host's own specs hold, and one machine behind several hotkeys.
A host that fails here is not benchmarked (and none of its executors counts)."""

import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from protocol.messages.benchmarks import CheckReason, ExecutorRef
from protocol.messages.manifest import HostManifest, ManifestMessage
from validator.cycle.plan import ClassInfo
from validator.services.benchmarks import CheckOutcome

MANIFEST = "manifest"


@dataclass
class ManifestVerdict:
    checks: list[CheckOutcome] = field(default_factory=list)
    executors: list[tuple[ExecutorRef, ClassInfo]] = field(default_factory=list)  # to benchmark


def spec_fingerprint(host: HostManifest) -> str | None:
    """Free disk to the megabyte is part of it: two machines rarely match on it, one always does."""
    specs = host.specs
    if not specs.disk_mb or not specs.cpu_cores:
        return None
    data = [specs.cpu_model, specs.cpu_cores, specs.memory_mb, specs.disk_mb, [g.model for g in specs.gpus]]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def _gpus_claimed_beyond_specs(host: HostManifest, classes: Mapping[str, ClassInfo]) -> str | None:
    """Each GPU class needs GPUs of its model and memory (as `nvidia-smi` reported them): the
    count alone is not enough, a cheaper card must not pass for the class's."""
    total = sum(classes[c].gpu_count * n for c, n in host.executors.items() if c in classes)
    if total > len(host.specs.gpus):
        return f"executors need {total} GPUs; the host reports {len(host.specs.gpus)}"
    for cls, count in host.executors.items():
        info = classes.get(cls)
        if info is None or not info.gpu_count or not count:
            continue
        fitting = [
            g
            for g in host.specs.gpus
            if info.gpu_model.lower() in g.model.lower() and g.memory_mb >= info.gpu_memory_mb
        ]
        if info.gpu_count * count > len(fitting):
            wanted = f"{info.gpu_model or 'any model'} with ≥ {info.gpu_memory_mb} MiB"
            return f"{cls} needs {info.gpu_count * count} GPUs ({wanted}); the host has {len(fitting)} such"
    return None


def _over_claimed(host: HostManifest, classes: Mapping[str, ClassInfo]) -> str | None:
    cpus = sum(classes[c].cpus * n for c, n in host.executors.items() if c in classes)
    memory = sum(classes[c].memory_mb * n for c, n in host.executors.items() if c in classes)
    specs = host.specs
    if specs.cpu_cores and cpus > specs.cpu_cores + 1e-9:
        return f"executors need {cpus:g} CPUs; the host reports {specs.cpu_cores} cores"
    if specs.memory_mb and memory > specs.memory_mb:
        return f"executors need {memory} MiB; the host reports {specs.memory_mb} MiB"
    return _gpus_claimed_beyond_specs(host, classes)


def _shared(manifests: Mapping[str, ManifestMessage], flag_engines: bool) -> dict[tuple[str, str], str]:
    """(hotkey, host) → detail, for hosts whose engine id appears twice anywhere (one machine listed
    twice), or whose spec fingerprint appears under two hotkeys (one machine behind two miners;
    within one miner, identical machines from one image are plausible)."""
    seen: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for hotkey, manifest in manifests.items():
        for host in manifest.hosts:
            if flag_engines and host.specs.docker_engine_id:
                seen["engine " + host.specs.docker_engine_id].append((hotkey, host.name))
            fingerprint = spec_fingerprint(host)
            if flag_engines and fingerprint:
                seen["specs " + fingerprint[:16]].append((hotkey, host.name))
    flagged: dict[tuple[str, str], str] = {}
    for what, places in seen.items():
        if len(places) < 2 or (what.startswith("specs") and len({h for h, _ in places}) < 2):
            continue
        for place in places:
            others = sorted({f"{h}/{n}" for h, n in places if (h, n) != place})
            flagged.setdefault(place, f"same {what.split(' ')[0]} as {', '.join(others)[:500]}")
    return flagged


def manifests_check(
    *, manifests: Mapping[str, ManifestMessage], classes: Mapping[str, ClassInfo], flag_engines: bool
) -> dict[str, ManifestVerdict]:
    shared = _shared(manifests, flag_engines)
    verdicts: dict[str, ManifestVerdict] = {}
    for hotkey, manifest in manifests.items():
        verdict = verdicts[hotkey] = ManifestVerdict()
        for host in manifest.hosts:
            unknown = sorted(c for c, n in host.executors.items() if n and c not in classes)
            if unknown:
                detail = f"classes not in the subnet's catalogue: {', '.join(unknown)}"
                where = f"{host.name}/{unknown[0]}"  # its own row: the host's verdict is recorded too
                verdict.checks.append(CheckOutcome(where, unknown[0], MANIFEST, CheckReason.UNKNOWN_CLASS, detail))
            failure: tuple[CheckReason, str] | None = None
            if (hotkey, host.name) in shared:
                failure = (CheckReason.DUPLICATE_HOST, shared[(hotkey, host.name)])
            elif (over := _over_claimed(host, classes)) is not None:
                failure = (CheckReason.OVER_CLAIMED, over)
            if failure is not None:
                verdict.checks.append(CheckOutcome(host.name, "", MANIFEST, failure[0], failure[1]))
                continue
            verdict.checks.append(CheckOutcome(host.name, "", MANIFEST, CheckReason.PASSED, "specs cover the claim"))
            for cls, count in sorted(host.executors.items()):
                if cls in classes:
                    verdict.executors += [
                        (ExecutorRef(host=host.name, executor_class=cls, index=i), classes[cls]) for i in range(count)
                    ]
    return verdicts
