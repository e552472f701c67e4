"""The miner overview: staff only; its executors, jobs, receipts and earnings are what its tables
hold, and only receipts both sides signed count as credited."""

import uuid
from decimal import Decimal

import pytest

from executor.models import ExecutorClass
from miner.models import AcceptedJob, MinerReceipt
from tests.factories import UserFactory
from tests.miner.factories import AcceptedJobFactory, ExecutorSlotFactory

pytestmark = pytest.mark.django_db
URL = "/admin/miner-overview/"
CHARTS = 5


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True))
    return client


def _kpi(html: str, key: str) -> str:
    after = html.split(f'data-kpi="{key}"', 1)[1]
    return after.split('meshwork-kpi-value">', 1)[1].split("<", 1)[0].strip()


def _receipt(*, seconds: float, job_kind: str = "organic", signed: bool = True, kind: str = "job_finished") -> None:
    MinerReceipt.objects.create(
        kind=kind,
        job_uuid=uuid.uuid4(),
        validator_hotkey="5Validator" + "v" * 38,
        payload={"kind": kind, "seconds": seconds, "job_kind": job_kind, "executor_class": "cpu.small"},
        validator_signature="ab" * 32,
        miner_signature="cd" * 32 if signed else "",
    )


def test_only_staff_see_it(client):
    assert client.get(URL)["Location"].startswith("/admin/login/")
    client.force_login(UserFactory(is_staff=False))
    assert client.get(URL)["Location"].startswith("/admin/login/")


def test_every_chart_even_before_any_job(staff_client, executor_classes):
    html = staff_client.get(URL).content.decode()
    assert html.count('role="img"') == CHARTS
    assert html.count("no data yet") == CHARTS
    assert _kpi(html, "earnings") == "0.0000"


def test_executors_jobs_receipts_and_earnings(staff_client, executor_classes):
    slots = [ExecutorSlotFactory.create() for _ in range(3)]
    slots[0].job_uuid = uuid.uuid4()
    slots[0].save()
    AcceptedJobFactory(status=AcceptedJob.Status.FINISHED)
    AcceptedJobFactory(status=AcceptedJob.Status.FAILED)
    _receipt(seconds=10.0)
    _receipt(seconds=5.5)
    _receipt(seconds=7.0, job_kind="benchmark")
    _receipt(seconds=1000.0, signed=False)  # never countersigned: never served, never credited
    _receipt(seconds=3.0, kind="interval")  # an interval's seconds are in the job_finished total
    price = ExecutorClass.objects.get(name="cpu.small").price_per_second

    html = staff_client.get(URL).content.decode()

    assert _kpi(html, "executors") == "3"
    assert _kpi(html, "busy") == "1"
    assert _kpi(html, "jobs") == "2"
    assert _kpi(html, "credited-seconds") == "22.5"
    assert _kpi(html, "earnings") == f"{float(Decimal('15.5') * price):,.4f}"
    assert "cpu.small (1 busy)" in html
    assert "organic 15.5 s" in html
    assert "benchmark 7 s" in html
    assert "job_finished 3" in html
    assert "interval 1" in html
    assert html.count("no data yet") == 0


def test_the_sidebar_links_to_it(staff_client):
    assert f'href="{URL}"' in staff_client.get("/admin/").content.decode()
