"""What a manifest claims that its own specs, the catalogue or another hotkey refute."""

from protocol.messages.benchmarks import CheckReason
from protocol.messages.manifest import GpuSpec, HostManifest, HostSpecs, ManifestMessage
from tests.validator.cycle.test_plan import INFO
from validator.cycle.manifest_checks import manifests_check, spec_fingerprint
from validator.cycle.plan import ClassInfo

GPU = ClassInfo(**{**INFO.__dict__, "name": "gpu.one", "gpu_count": 1, "cpus": 1.0})
A100 = ClassInfo(**{**INFO.__dict__, "name": "gpu.a100", "gpu_count": 2, "gpu_model": "A100", "gpu_memory_mb": 81920})
CLASSES = {"cpu.test": INFO, "gpu.one": GPU, "gpu.a100": A100}


def _host(
    name: str = "h", *, engine: str = "", cores: int = 8, disk: int = 0, gpus: int = 0, **executors: int
) -> HostManifest:
    specs = HostSpecs(
        cpu_model="X",
        cpu_cores=cores,
        memory_mb=65536,
        disk_mb=disk,
        gpus=[GpuSpec(model="G", memory_mb=1) for _ in range(gpus)],
        docker_engine_id=engine,
    )
    return HostManifest(name=name, executors={k.replace("_", "."): v for k, v in executors.items()}, specs=specs)


def _reasons(verdict) -> list[tuple[str, str]]:
    return [(c.executor, c.reason) for c in verdict.checks]


def test_specs_that_cover_the_claim_pass_and_list_every_executor() -> None:
    verdicts = manifests_check(
        manifests={"m": ManifestMessage(hosts=[_host(cpu_test=3)])}, classes=CLASSES, flag_engines=True
    )
    assert _reasons(verdicts["m"]) == [("h", CheckReason.PASSED)]
    assert [r.key() for r, _ in verdicts["m"].executors] == ["h/cpu.test/0", "h/cpu.test/1", "h/cpu.test/2"]


def test_more_cpus_or_gpus_than_the_host_reports_is_over_claimed() -> None:
    manifests = {
        "cpus": ManifestMessage(hosts=[_host(cores=2, cpu_test=3)]),
        "gpus": ManifestMessage(hosts=[_host(gpus=1, gpu_one=2)]),
        "ok": ManifestMessage(hosts=[_host(gpus=2, gpu_one=2)]),
    }
    verdicts = manifests_check(manifests=manifests, classes=CLASSES, flag_engines=True)
    assert _reasons(verdicts["cpus"]) == [("h", CheckReason.OVER_CLAIMED)]
    assert "3 CPUs" in verdicts["cpus"].checks[0].detail
    assert _reasons(verdicts["gpus"]) == [("h", CheckReason.OVER_CLAIMED)]
    assert not verdicts["cpus"].executors
    assert _reasons(verdicts["ok"]) == [("h", CheckReason.PASSED)]


def test_classes_outside_the_catalogue_are_refused_and_not_benchmarked() -> None:
    verdicts = manifests_check(
        manifests={"m": ManifestMessage(hosts=[_host(cpu_test=1, cpu_fake=2)])}, classes=CLASSES, flag_engines=True
    )
    assert _reasons(verdicts["m"]) == [("h/cpu.fake", CheckReason.UNKNOWN_CLASS), ("h", CheckReason.PASSED)]
    assert [r.key() for r, _ in verdicts["m"].executors] == ["h/cpu.test/0"]


def test_one_engine_or_one_disk_behind_two_hotkeys_is_flagged_unless_shared_by_design() -> None:
    manifests = {
        "a": ManifestMessage(hosts=[_host(engine="E", cpu_test=1)]),
        "b": ManifestMessage(hosts=[_host("other-name", engine="E", cpu_test=1)]),
        "c": ManifestMessage(hosts=[_host(engine="C", disk=123456, cpu_test=1)]),
        "d": ManifestMessage(hosts=[_host(engine="D", disk=123456, cpu_test=1)]),
        "e": ManifestMessage(hosts=[_host(engine="F", disk=999, cpu_test=1)]),
    }
    verdicts = manifests_check(manifests=manifests, classes=CLASSES, flag_engines=True)
    for hotkey in "abcd":
        assert _reasons(verdicts[hotkey]) == [("h" if hotkey != "b" else "other-name", CheckReason.DUPLICATE_HOST)]
    assert "b/other-name" in verdicts["a"].checks[0].detail
    assert _reasons(verdicts["e"])[0][1] == CheckReason.PASSED
    shared = manifests_check(manifests=manifests, classes=CLASSES, flag_engines=False)
    assert all(_reasons(v)[0][1] == CheckReason.PASSED for v in shared.values())


def test_a_fingerprint_needs_disk_and_cores() -> None:
    assert spec_fingerprint(_host(disk=0)) is None
    assert spec_fingerprint(_host(disk=5)) == spec_fingerprint(_host("x", disk=5))


def _gpu_host(*gpus: tuple[str, int], **executors: int) -> HostManifest:
    specs = HostSpecs(
        cpu_model="X", cpu_cores=8, memory_mb=65536, disk_mb=0, gpus=[GpuSpec(model=m, memory_mb=mb) for m, mb in gpus]
    )
    return HostManifest(name="h", executors={k.replace("_", "."): v for k, v in executors.items()}, specs=specs)


def test_gpu_classes_need_gpus_of_their_model_and_memory_not_just_a_count() -> None:
    a100 = ("NVIDIA A100-SXM4-80GB", 81920)
    manifests = {
        "right": ManifestMessage(hosts=[_gpu_host(a100, a100, gpu_a100=1)]),
        "cheaper_cards": ManifestMessage(hosts=[_gpu_host(("NVIDIA GeForce RTX 3060", 12288), a100, gpu_a100=1)]),
        "smaller_a100": ManifestMessage(hosts=[_gpu_host(("NVIDIA A100-PCIE-40GB", 40960), a100, gpu_a100=1)]),
        "any_model": ManifestMessage(hosts=[_gpu_host(("NVIDIA T4", 16384), gpu_one=1)]),
    }
    verdicts = manifests_check(manifests=manifests, classes=CLASSES, flag_engines=True)
    assert _reasons(verdicts["right"]) == [("h", CheckReason.PASSED)]
    assert _reasons(verdicts["any_model"]) == [("h", CheckReason.PASSED)]
    for hotkey in ("cheaper_cards", "smaller_a100"):
        assert _reasons(verdicts[hotkey]) == [("h", CheckReason.OVER_CLAIMED)]
        assert "A100 with ≥ 81920 MiB" in verdicts[hotkey].checks[0].detail


def test_identical_machines_of_one_miner_are_plausible_but_one_engine_listed_twice_is_not() -> None:
    twins = ManifestMessage(
        hosts=[_host("a", engine="EA", disk=777, cpu_test=1), _host("b", engine="EB", disk=777, cpu_test=1)]
    )
    listed_twice = ManifestMessage(hosts=[_host("a", engine="E", cpu_test=1), _host("b", engine="E", cpu_test=1)])
    verdicts = manifests_check(manifests={"twins": twins, "twice": listed_twice}, classes=CLASSES, flag_engines=True)
    assert [c.reason for c in verdicts["twins"].checks] == [CheckReason.PASSED, CheckReason.PASSED]
    assert [c.reason for c in verdicts["twice"].checks] == [CheckReason.DUPLICATE_HOST] * 2
