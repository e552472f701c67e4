from decimal import Decimal

import pytest

from facilitator.models import Job
from facilitator.services.jobs import UnknownExecutorClass, job_create
from facilitator.services.specs import job_spec
from protocol.messages.common import UrlInput, ZipInput
from tests.factories import job_spec as make_spec

pytestmark = pytest.mark.django_db


def test_create_records_a_pending_job_with_its_first_event(funded_user):
    spec = make_spec(args=["x"], env={"A": "b"}, timeout_s=30)
    job = job_create(user=funded_user, spec=spec, tag="t")
    job.refresh_from_db()
    assert (job.status, job.tag, job.user, job.executor_class) == ("pending", "t", funded_user, "cpu.small")
    assert [(e.status, e.detail) for e in job.history.all()] == [("pending", "submitted")]
    assert job_spec(job) == spec


@pytest.mark.parametrize(
    "job_input", [ZipInput(zip_b64="UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="), UrlInput(url="https://example.com/x.zip")]
)
def test_spec_with_input_round_trips(funded_user, job_input):
    spec = make_spec(input=job_input)
    job = job_create(user=funded_user, spec=spec)
    job.refresh_from_db()
    assert job_spec(job) == spec


def test_unknown_executor_class_is_refused_and_nothing_held(funded_user):
    with pytest.raises(UnknownExecutorClass):
        job_create(user=funded_user, spec=make_spec(executor_class="gpu.h100"))
    assert Job.objects.count() == 0
    assert funded_user.credits.held == 0


def test_inactive_executor_class_is_refused(funded_user, executor_classes):
    executor_classes["cpu.small"].is_active = False
    executor_classes["cpu.small"].save()
    with pytest.raises(UnknownExecutorClass):
        job_create(user=funded_user, spec=make_spec())


def test_price_is_fixed_at_submission(funded_user, executor_classes):
    job = job_create(user=funded_user, spec=make_spec(timeout_s=100))
    executor_classes["cpu.small"].price_per_second = Decimal("1")
    executor_classes["cpu.small"].save()
    job.refresh_from_db()
    assert (job.price_per_second, job.hold) == (Decimal("0.001"), Decimal("0.1"))
