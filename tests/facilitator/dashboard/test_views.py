"""The admin dashboard: staff only, and the charts show the jobs the database holds."""

from datetime import timedelta

import pytest
from django.utils import timezone

from facilitator.models import Job
from protocol.charts import Bar, bar_chart_svg
from protocol.messages.common import FailureKind
from protocol.messages.jobs import JobStatus
from tests.facilitator.factories import JobFactory, JobStatusEventFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/admin/dashboard/"
MINER_A = "5MinerA" + "a" * 41
MINER_B = "5MinerB" + "b" * 41


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True))
    return client


def test_anonymous_is_sent_to_the_admin_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_user_who_is_not_staff_is_refused(client):
    client.force_login(UserFactory(is_staff=False))
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_see_four_charts_even_without_jobs(staff_client):
    response = staff_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('role="img"') == 4
    assert html.count("no data yet") == 4


def test_charts_show_the_last_day_of_jobs(staff_client):
    now = timezone.now()
    for _ in range(3):
        JobFactory(status=JobStatus.COMPLETED, miner_hotkey=MINER_A, executor_seconds=10.0)
    JobFactory(status=JobStatus.COMPLETED, miner_hotkey=MINER_B, executor_seconds=5.0)
    failed = JobFactory(
        status=JobStatus.FAILED,
        miner_hotkey=MINER_B,
        executor_seconds=1.0,
        failure_kind=FailureKind.JOB,
        failure_reason="nonzero_exit",
    )
    JobStatusEventFactory(job=failed)
    JobFactory(status=JobStatus.PENDING)
    old = JobFactory.create(status=JobStatus.CANCELLED)
    Job.objects.filter(uuid=old.uuid).update(created_at=now - timedelta(days=2))
    Job.objects.filter(executor_seconds__isnull=False).update(finished_at=now + timedelta(seconds=4))

    html = staff_client.get(URL).content.decode()

    by_status = bar_chart_svg(
        title="Jobs in the last 24 h, by status",
        bars=[Bar("completed", 4), Bar("failed", 1), Bar("pending", 1)],
    )
    assert by_status in html  # the job older than a day is not counted
    seconds = bar_chart_svg(
        title="Executor-seconds per miner (24 h)",
        bars=[Bar(MINER_A[:12] + "…", 30.0), Bar(MINER_B[:12] + "…", 6.0)],
        unit=" s",
    )
    assert seconds in html
    failures = bar_chart_svg(title="Failures by kind and reason (24 h)", bars=[Bar("job: nonzero_exit", 1)])
    assert failures in html
    assert "cpu.small" in html  # the latency chart has the one class of finished jobs


def test_the_admin_index_links_to_the_dashboard(staff_client):
    response = staff_client.get("/admin/")
    assert response.status_code == 200
    assert f'href="{URL}"' in response.content.decode()
