from typing import Any

import pytest
from django.test import Client

from executor.models import CatalogueState, ExecutorClass

pytestmark = pytest.mark.django_db
VALID_BENCH = {
    "gpu_count": "0",
    "gpu_memory_mb": "0",
    "spin_up_s": "10",
    "matmul_n": "2048",
    "pow_difficulty": "18",
    "pow_count": "16",
}


def test_executor_classes_are_listed_and_editable_in_the_admin(
    admin_client: Client, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
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
        "gpu_count": "2",
        "gpu_model": "A100",
        "gpu_memory_mb": "81920",
        "spin_up_s": "20",
        "matmul_n": "4096",
        "pow_difficulty": "20",
        "pow_count": "8",
        "reference_seconds": '{"matmul": 1.5}',
        "is_active": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        saved = admin_client.post(f"/admin/executor/executorclass/{small.pk}/change/", form)
    assert saved.status_code == 302
    small.refresh_from_db()
    assert (small.cpus, small.memory_mb, str(small.price_per_second), small.weight) == (1.5, 768, "0.001500", 1.2)
    assert (small.gpu, small.gpu_count, small.matmul_n, small.reference_seconds) == (True, 2, 4096, {"matmul": 1.5})
    # The save published a new signed catalogue carrying the edit (after commit).
    state = CatalogueState.objects.get()
    assert state.envelope is not None
    edited = next(c for c in state.envelope["catalogue"]["classes"] if c["name"] == "cpu.small")
    assert (state.version, edited["gpu_count"], edited["price_per_second"]) == (1, 2, "0.001500")


def test_publish_now_signs_the_next_version(admin_client: Client, owner: Any) -> None:
    small = ExecutorClass.objects.get(name="cpu.small")
    action = {"action": "publish_catalogue", "_selected_action": [small.pk]}
    done = admin_client.post("/admin/executor/executorclass/", action, follow=True)
    assert "Published catalogue version 1." in done.content.decode()
    assert "Catalogue version 1" in admin_client.get("/admin/executor/executorclass/").content.decode()


def test_on_a_node_that_is_not_the_owner_the_table_is_read_only(
    admin_client: Client, executor_classes: Any, settings: Any, make_hotkey: Any
) -> None:
    settings.SUBNET_OWNER_HOTKEY = make_hotkey().ss58
    listing = admin_client.get("/admin/executor/executorclass/")
    assert listing.status_code == 200
    assert "read-only: classes come from the catalogue" in listing.content.decode()
    assert "publish_catalogue" not in listing.content.decode()
    small = ExecutorClass.objects.get(name="cpu.small")
    form = {"name": "cpu.small", "cpus": "9", "memory_mb": "512", "pids": "128", "output_mb": "64"}
    refused = admin_client.post(f"/admin/executor/executorclass/{small.pk}/change/", {**form, "price_per_second": "1"})
    assert refused.status_code == 403
    assert admin_client.get("/admin/executor/executorclass/add/").status_code == 403
    assert admin_client.post(f"/admin/executor/executorclass/{small.pk}/delete/", {"post": "yes"}).status_code == 403
    small.refresh_from_db()
    assert small.cpus == 1.0
    assert admin_client.get(f"/admin/executor/executorclass/{small.pk}/change/").status_code == 200  # view only
    assert not CatalogueState.objects.exists()


def test_the_admin_refuses_limits_the_executor_could_not_apply(admin_client: Client, owner: Any) -> None:
    form = {"name": "Bad Name", "cpus": "0", "memory_mb": "8", "pids": "1", "output_mb": "0", **VALID_BENCH}
    refused = admin_client.post("/admin/executor/executorclass/add/", {**form, "price_per_second": "-1", "weight": "1"})
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert set(errors) == {"name", "cpus", "memory_mb", "pids", "output_mb", "price_per_second"}
    assert not ExecutorClass.objects.filter(name="Bad Name").exists()
