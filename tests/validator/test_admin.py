"""The validator's records in the admin: each list and each page renders with its rows, the
filters narrow them, and nothing can be added, edited or deleted by hand."""

import pytest
from django.test import Client

from protocol.messages.benchmarks import CheckReason
from protocol.messages.manifest import GpuSpec, HostManifest, HostSpecs, ManifestMessage
from tests.validator.factories import (
    BenchmarkCheckFactory,
    BenchmarkCycleFactory,
    MinerCycleFactory,
    MinerFactory,
    MinerManifestFactory,
)

pytestmark = pytest.mark.django_db
ADMIN = "/admin/validator"


@pytest.fixture
def records():
    miner = MinerFactory.create(hotkey="5AdminMiner")
    gpu_host = HostManifest(
        name="rig-7",
        executors={"gpu.a100": 2},
        specs=HostSpecs(
            cpu_model="EPYC 7763",
            cpu_cores=64,
            memory_mb=512 * 1024,
            disk_mb=2048 * 1024,
            gpus=[GpuSpec(model="NVIDIA A100", memory_mb=81920)],
            docker_engine_id="ENGINE-42",
        ),
    )
    manifest = MinerManifestFactory.create(miner=miner, message=ManifestMessage(hosts=[gpu_host]))
    cycle = BenchmarkCycleFactory.create(number=77)
    passed = BenchmarkCheckFactory.create(cycle=cycle, miner=miner, executor="rig-7/gpu.a100/0", benchmark="pow")
    failed = BenchmarkCheckFactory.create(
        cycle=cycle,
        miner=miner,
        executor="rig-7/gpu.a100/0",
        executor_class="gpu.a100",
        benchmark="matmul",
        passed=False,
        reason=CheckReason.LATE,
        detail="answered after 12.0 s",
        seconds=12.0,
        deadline_s=8.0,
    )
    other_cycle = BenchmarkCycleFactory.create(number=78)
    elsewhere = BenchmarkCheckFactory.create(cycle=other_cycle, executor="far/cpu.small/0")
    miner_cycle = MinerCycleFactory.create(cycle=cycle, miner=miner, manifest=manifest, newcomer=True)
    return {
        "miner": miner,
        "manifest": manifest,
        "cycle": cycle,
        "passed": passed,
        "failed": failed,
        "elsewhere": elsewhere,
        "miner_cycle": miner_cycle,
    }


def _page(admin_client: Client, url: str) -> str:
    response = admin_client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_manifests_list_and_page_show_claims_and_host_specs(admin_client, records):
    listing = _page(admin_client, f"{ADMIN}/minermanifest/")
    assert "5AdminMiner" in listing
    assert "gpu.a100 × 2" in listing
    page = _page(admin_client, f"{ADMIN}/minermanifest/{records['manifest'].pk}/change/")
    for shown in ("rig-7", "64 cores EPYC 7763", "512.0 GiB RAM", "GPU NVIDIA A100 (80.0 GiB)", "engine ENGINE-42"):
        assert shown in page


def test_cycles_list_and_page_count_passed_and_failed_checks(admin_client, records):
    listing = admin_client.get(f"{ADMIN}/benchmarkcycle/")
    assert listing.status_code == 200
    rows = {row.number: (row.passed, row.failed) for row in listing.context["cl"].result_list}
    assert rows == {77: (1, 1), 78: (1, 0)}
    page = _page(admin_client, f"{ADMIN}/benchmarkcycle/{records['cycle'].pk}/change/")
    assert "Passed checks" in page
    assert "Failed checks" in page


def test_checks_list_shows_reason_detail_seconds_deadline_and_efficiency(admin_client, records):
    listing = _page(admin_client, f"{ADMIN}/benchmarkcheck/")
    for shown in ("late", "answered after 12.0 s", "12.0", "8.0", "0.9", "rig-7/gpu.a100/0"):
        assert shown in listing
    page = _page(admin_client, f"{ADMIN}/benchmarkcheck/{records['failed'].pk}/change/")
    assert "answered after 12.0 s" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("reason=late", {"failed"}),
        ("benchmark=pow", {"passed", "elsewhere"}),
        ("passed__exact=0", {"failed"}),
        ("passed__exact=1", {"passed", "elsewhere"}),
        ("q=5AdminMiner", {"passed", "failed"}),
        ("cycle={cycle}", {"passed", "failed"}),
    ],
)
def test_check_filters_and_search_narrow_the_list(admin_client, records, query, expected):
    response = admin_client.get(f"{ADMIN}/benchmarkcheck/?{query.format(cycle=records['cycle'].pk)}")
    assert response.status_code == 200
    shown = {check.pk for check in response.context["cl"].result_list}
    assert shown == {records[name].pk for name in expected}


def test_miner_cycles_list_and_page_render(admin_client, records):
    listing = admin_client.get(f"{ADMIN}/minercycle/?newcomer__exact=1")
    assert listing.status_code == 200
    assert [row.pk for row in listing.context["cl"].result_list] == [records["miner_cycle"].pk]
    _page(admin_client, f"{ADMIN}/minercycle/{records['miner_cycle'].pk}/change/")


@pytest.mark.parametrize(
    ("model", "record"),
    [
        ("minermanifest", "manifest"),
        ("benchmarkcycle", "cycle"),
        ("benchmarkcheck", "failed"),
        ("minercycle", "miner_cycle"),
    ],
)
def test_records_are_read_only(admin_client, records, model, record):
    assert admin_client.get(f"{ADMIN}/{model}/add/").status_code == 403
    pk = records[record].pk
    assert admin_client.post(f"{ADMIN}/{model}/{pk}/delete/", {"post": "yes"}).status_code == 403
    page = _page(admin_client, f"{ADMIN}/{model}/{pk}/change/")
    assert 'name="_save"' not in page
