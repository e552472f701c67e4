from typing import Any

import pytest
from django.test import Client

from executor.models import ExecutorClass

pytestmark = pytest.mark.django_db


def test_executor_classes_are_listed_and_editable_in_the_admin(admin_client: Client) -> None:
    listing = admin_client.get("/admin/executor/executorclass/")
    assert listing.status_code == 200
    assert b"cpu.small" in listing.content
    assert b"cpu.large" in listing.content

    small = ExecutorClass.objects.get(name="cpu.small")
    form: dict[str, Any] = {
        "name": "cpu.small",
        "description": "tuned",
        "cpus": "1.5",
        "memory_mb": "768",
        "pids": "128",
        "output_mb": "64",
        "price_per_second": "0.0015",
        "weight": "1.2",
        "is_active": "on",
    }
    saved = admin_client.post(f"/admin/executor/executorclass/{small.pk}/change/", form)
    assert saved.status_code == 302
    small.refresh_from_db()
    assert (small.cpus, small.memory_mb, str(small.price_per_second), small.weight) == (1.5, 768, "0.001500", 1.2)


def test_the_admin_refuses_limits_the_executor_could_not_apply(admin_client: Client) -> None:
    form = {"name": "Bad Name", "cpus": "0", "memory_mb": "8", "pids": "1", "output_mb": "0"}
    refused = admin_client.post("/admin/executor/executorclass/add/", {**form, "price_per_second": "-1", "weight": "1"})
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert set(errors) == {"name", "cpus", "memory_mb", "pids", "output_mb", "price_per_second"}
    assert not ExecutorClass.objects.filter(name="Bad Name").exists()
