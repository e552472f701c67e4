"""The network overview: staff only, and its figures and charts are the jobs the database holds."""

from datetime import timedelta

import pytest
from django.utils import timezone

from facilitator.models import Job
from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import JobFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/admin/dashboard/"
MINER_A = "5MinerA" + "a" * 41
MINER_B = "5MinerB" + "b" * 41
CHARTS = 7


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True))
    return client


def _kpi(html: str, key: str) -> str:
    after = html.split(f'data-kpi="{key}"', 1)[1]
    return after.split('meshwork-kpi-value">', 1)[1].split("<", 1)[0].strip()


def test_anonymous_is_sent_to_the_admin_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_user_who_is_not_staff_is_refused(client):
    client.force_login(UserFactory(is_staff=False))
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_see_every_chart_even_without_jobs(staff_client):
    response = staff_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('role="img"') == CHARTS
    assert html.count("no data yet") == CHARTS
    assert _kpi(html, "jobs") == "0"
    assert _kpi(html, "failure-rate") == "-"


def _seed() -> None:
    """Six jobs this hour (four completed in 2, 4, 6 and 8 s, one failed by its own fault, one by
    the infrastructure's) and one two days old, which no 24 h figure may count."""
    now = timezone.now()
    for took, miner in ((2, MINER_A), (4, MINER_A), (6, MINER_B), (8, MINER_B)):
        job = JobFactory.create(status=JobStatus.COMPLETED, miner_hotkey=miner, executor_seconds=float(took))
        Job.objects.filter(uuid=job.uuid).update(started_at=now, finished_at=job.created_at + timedelta(seconds=took))
    JobFactory(
        status=JobStatus.FAILED, miner_hotkey=MINER_A, failure_kind=FailureKind.JOB, failure_reason="nonzero_exit"
    )
    JobFactory(status=JobStatus.FAILED, failure_kind=FailureKind.INFRASTRUCTURE, failure_reason="miner_lost")
    old = JobFactory.create(status=JobStatus.COMPLETED, miner_hotkey="5Old" + "o" * 44)
    Job.objects.filter(uuid=old.uuid).update(created_at=now - timedelta(days=2), started_at=now - timedelta(days=2))


def test_figures_count_the_last_day_only(staff_client):
    _seed()
    html = staff_client.get(URL).content.decode()
    assert _kpi(html, "jobs") == "6"
    assert _kpi(html, "failure-rate") == "33.3 %"
    assert _kpi(html, "miners-online") == "2"  # the old job's miner started two days ago
    assert _kpi(html, "latency") == "5.0 s / 7.7 s"  # percentile_cont of 2, 4, 6, 8
    assert html.count('role="img"') == CHARTS
    assert "no data yet" not in html
    assert "Failure rate by kind (last 24 h, per hour)" in html
    assert "job 16.7 %" in html
    assert "infrastructure 16.7 %" in html
    assert "p95 7.7 s" in html
    assert ">5MinerAaaaaa…<" in html


def test_the_seven_day_window_counts_the_older_job(staff_client):
    _seed()
    html = staff_client.get(URL, {"window": "7d"}).content.decode()
    assert _kpi(html, "jobs") == "7"
    assert "(last 7 days, per day)" in html


def test_an_unknown_window_shows_the_default(staff_client):
    response = staff_client.get(URL, {"window": "forever"})
    assert response.status_code == 200
    assert "(last 24 h, per hour)" in response.content.decode()


def test_the_admin_index_and_sidebar_link_to_the_dashboard(staff_client):
    response = staff_client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count(f'href="{URL}"') >= 2  # the sidebar and the index's card
