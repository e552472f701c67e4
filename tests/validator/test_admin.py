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
    MinerDeclineFactory,
    MinerFactory,
    MinerManifestFactory,
    MinerScoreFactory,
    ReceiptPullFactory,
    ReceiptRecordFactory,
    ScoringCycleFactory,
    WeightSubmissionFactory,
    score_class,
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


# --- receipts, scores and weights


@pytest.fixture
def scoring_records():
    busy, other = MinerFactory.create(hotkey="5BusyMiner"), MinerFactory.create(hotkey="5OtherMiner")
    cycle = ScoringCycleFactory.create(number=901)
    score = MinerScoreFactory.create(
        cycle=cycle,
        hotkey="5BusyMiner",
        classes=[score_class(claimed=4, verified=3, efficiency=0.8, points=480.0)],
        penalties=[{"reason": "declined_free", "detail": "declined 2 while free", "factor": 0.8}],
    )
    return {
        "cycle": cycle,
        "score": score,
        "weights": WeightSubmissionFactory.create(cycle=cycle, status="skipped", reason="chain error: Timeout"),
        "receipt": ReceiptRecordFactory.create(miner=busy, kind="interval", index=2),
        "other_receipt": ReceiptRecordFactory.create(miner=other, kind="job_finished"),
        "pull": ReceiptPullFactory.create(miner=busy, failure="too_large", detail="over 8 MiB"),
        "other_pull": ReceiptPullFactory.create(miner=other),
        "decline": MinerDeclineFactory.create(miner=busy, reason="busy"),
        "other_decline": MinerDeclineFactory.create(miner=other, reason="duplicate_job"),
        "busy": busy,
    }


def test_a_scoring_cycle_shows_each_score_with_its_inputs_and_penalties(admin_client, scoring_records):
    listing = _page(admin_client, f"{ADMIN}/scoringcycle/")
    assert "901" in listing
    assert "skipped" in listing
    page = _page(admin_client, f"{ADMIN}/scoringcycle/{scoring_records['cycle'].pk}/change/")
    assert "5BusyMiner" in page
    assert "cpu.small: 3/4 verified, eff 0.8" in page
    assert "= 480 pts" in page
    assert "declined_free × 0.8: declined 2 while free" in page


def test_weight_submissions_show_status_and_reason(admin_client, scoring_records):
    listing = _page(admin_client, f"{ADMIN}/weightsubmission/?status__exact=skipped")
    assert "chain error: Timeout" in listing


@pytest.mark.parametrize(
    ("model", "query", "expected"),
    [
        ("receiptrecord", "kind=interval", {"receipt"}),
        ("receiptrecord", "miner__id__exact={busy}", {"receipt"}),
        ("receiptrecord", "q=5OtherMiner", {"other_receipt"}),
        ("receiptpull", "failure=too_large", {"pull"}),
        ("receiptpull", "miner__id__exact={busy}", {"pull"}),
        ("minerdecline", "reason=duplicate_job", {"other_decline"}),
        ("minerdecline", "miner__id__exact={busy}", {"decline"}),
    ],
)
def test_receipt_pull_and_decline_filters_narrow_the_list(admin_client, scoring_records, model, query, expected):
    response = admin_client.get(f"{ADMIN}/{model}/?{query.format(busy=scoring_records['busy'].pk)}")
    assert response.status_code == 200
    shown = {row.pk for row in response.context["cl"].result_list}
    assert shown == {scoring_records[name].pk for name in expected}


@pytest.mark.parametrize(
    ("model", "record"),
    [
        ("scoringcycle", "cycle"),
        ("weightsubmission", "weights"),
        ("receiptrecord", "receipt"),
        ("receiptpull", "pull"),
        ("minerdecline", "decline"),
    ],
)
def test_scoring_records_are_read_only(admin_client, scoring_records, model, record):
    assert admin_client.get(f"{ADMIN}/{model}/add/").status_code == 403
    pk = scoring_records[record].pk
    assert admin_client.post(f"{ADMIN}/{model}/{pk}/delete/", {"post": "yes"}).status_code == 403
    page = _page(admin_client, f"{ADMIN}/{model}/{pk}/change/")
    assert 'name="_save"' not in page


def test_the_miners_list_shows_our_share_of_each(admin_client):
    MinerFactory.create(hotkey="5Shared", share={"cpu.small": {"entitled": 3, "in_use": 2, "total": 4}})
    assert "cpu.small: 2/3 of 4" in _page(admin_client, f"{ADMIN}/miner/")
