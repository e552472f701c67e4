"""`GET /api/v1/executor-classes/`: the active classes a job may ask for."""

import pytest
from django.utils import timezone

from executor.services.catalogue import catalogue_apply
from facilitator.models import ExecutorCensusReport
from tests.executor.services.test_catalogue import gpu_catalogue
from tests.facilitator.factories import ValidatorSessionFactory
from tests.factories import JOB_IMAGE

pytestmark = pytest.mark.django_db
JOBS = "/api/v1/jobs/"


def test_executor_classes_list(api):
    response = api.get("/api/v1/executor-classes/")
    assert response.status_code == 200
    classes = {c["name"]: c for c in response.json()}
    assert set(classes) >= {"cpu.small", "cpu.large"}
    assert classes["cpu.small"] == {
        "name": "cpu.small",
        "description": classes["cpu.small"]["description"],
        "cpus": 1.0,
        "memory_mb": 512,
        "pids": 128,
        "output_mb": 64,
        "gpu": False,
        "price_per_second": "0.001000",
        "weight": 1.0,
        "gpu_count": 0,
        "gpu_model": "",
        "gpu_memory_mb": 0,
        "spin_up_s": 10.0,
        "matmul_n": 2560,
        "pow_difficulty": 16,
        "pow_count": 64,
        "reference_seconds": {},
        "willing_miners": None,  # no validator reported it yet
        "willing_executors": None,
    }


def test_the_list_shows_the_executors_willing_at_the_current_price(api):
    session = ValidatorSessionFactory.create()
    census = {"executor_class": "cpu.small", "miners": 3, "claimed": 6, "verified": 5}
    ExecutorCensusReport.objects.create(
        validator_hotkey=session.hotkey,
        cycle=1,
        reported_at=timezone.now(),
        classes=[census | {"willing_miners": 2, "willing_executors": 4}, census | {"executor_class": "cpu.large"}],
    )
    classes = {c["name"]: c for c in api.get("/api/v1/executor-classes/").json()}
    assert (classes["cpu.small"]["willing_miners"], classes["cpu.small"]["willing_executors"]) == (2, 4)
    assert (classes["cpu.large"]["willing_miners"], classes["cpu.large"]["willing_executors"]) == (None, None)


def test_inactive_executor_class_is_neither_listed_nor_accepted(api, executor_classes):
    executor_classes["cpu.large"].is_active = False
    executor_classes["cpu.large"].save()
    assert "cpu.large" not in {c["name"] for c in api.get("/api/v1/executor-classes/").json()}
    response = api.post(JOBS, {"image": JOB_IMAGE, "executor_class": "cpu.large"}, format="json")
    assert response.status_code == 400
    assert "unknown executor class" in response.json()["executor_class"][0]


def test_a_class_the_catalogue_dropped_is_refused_and_a_new_one_listed(api, make_hotkey):
    catalogue, envelope = gpu_catalogue(make_hotkey(), version=1)
    catalogue_apply(catalogue, envelope=envelope)
    listed = {c["name"]: c for c in api.get("/api/v1/executor-classes/").json()}
    assert set(listed) == {"cpu.small", "gpu.a100"}
    assert (listed["gpu.a100"]["gpu"], listed["gpu.a100"]["gpu_count"]) == (True, 2)
    response = api.post(JOBS, {"image": JOB_IMAGE, "executor_class": "cpu.large"}, format="json")
    assert response.status_code == 400
    assert "unknown executor class 'cpu.large'" in response.json()["executor_class"][0]
