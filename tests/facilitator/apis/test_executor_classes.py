"""`GET /api/v1/executor-classes/`: the active classes a job may ask for."""

import pytest

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
    }


def test_inactive_executor_class_is_neither_listed_nor_accepted(api, executor_classes):
    executor_classes["cpu.large"].is_active = False
    executor_classes["cpu.large"].save()
    assert "cpu.large" not in {c["name"] for c in api.get("/api/v1/executor-classes/").json()}
    response = api.post(JOBS, {"image": JOB_IMAGE, "executor_class": "cpu.large"}, format="json")
    assert response.status_code == 400
    assert "unknown executor class" in response.json()["executor_class"][0]
