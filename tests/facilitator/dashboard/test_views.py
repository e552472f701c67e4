"""The network overview: staff only, and its figures and charts are the jobs the database holds."""

from datetime import timedelta

import pytest
from django.utils import timezone

from facilitator.dashboard.views import CENSUS_KPIS
from facilitator.models import ExecutorCensusReport, Job
from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import JobFactory, ValidatorSessionFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/admin/dashboard/"
MINER_A = "5MinerA" + "a" * 41
MINER_B = "5MinerB" + "b" * 41
CHARTS = 9


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
    assert _kpi(html, "executors") == "-"  # no validator reported a census yet


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
    assert html.count("no data yet") == 2  # only the census charts: no validator reported one
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


def test_executors_verified_vs_claimed_come_from_the_connected_validators_reports(staff_client):
    for verified, claimed in ((3, 5), (4, 4)):  # two validators: the highest figure of each counts
        session = ValidatorSessionFactory.create()
        row = {"executor_class": "cpu.small", "miners": 2, "claimed": claimed, "verified": verified}
        ExecutorCensusReport.objects.create(
            validator_hotkey=session.hotkey, cycle=1, reported_at=timezone.now(), classes=[row]
        )
    html = staff_client.get(URL).content.decode()
    assert _kpi(html, "executors-cpu.small") == "4 / 5"
    assert 'data-kpi="executors"' not in html
    for figure, value in (("verified", 4), ("claimed", 5)):
        title = f"Executors {figure} per class (validators&#x27; reports) (last 24 h, per hour)"
        chart = html.split(title, 1)[1].split("</svg>", 1)[0]
        assert f"cpu.small {value}<" in chart  # the legend: the class and its newest figure


def test_the_figures_are_for_the_classes_with_most_executors_verified(staff_client):
    session = ValidatorSessionFactory.create()
    rows = [{"executor_class": f"c{i}", "miners": 1, "claimed": 9, "verified": i} for i in range(CENSUS_KPIS + 2)]
    ExecutorCensusReport.objects.create(
        validator_hotkey=session.hotkey, cycle=1, reported_at=timezone.now(), classes=rows
    )
    html = staff_client.get(URL).content.decode()
    assert html.count('data-kpi="executors-') == CENSUS_KPIS
    assert 'data-kpi="executors-c0"' not in html  # the two with fewest verified are only charted
    assert _kpi(html, f"executors-c{CENSUS_KPIS + 1}") == f"{CENSUS_KPIS + 1} / 9"
