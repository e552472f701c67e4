"""The class table and the catalogue: build, publish (owner only), apply (upsert, deactivate the
missing), and the refusals of a dropped class are tested where they happen (facilitator API, miner reserve)."""

from decimal import Decimal

import pytest

from executor.models import CatalogueState, ExecutorClass
from executor.selectors import catalogue_state_get
from executor.services.catalogue import (
    CatalogueNotOwner,
    catalogue_apply,
    catalogue_build,
    catalogue_publish,
    catalogue_publish_if_changed,
    executor_class_save,
)
from protocol.catalogue import catalogue_sign, catalogue_verify

pytestmark = pytest.mark.django_db


def gpu_catalogue(owner, version):
    """The seeded table as `version`, with cpu.small repriced, gpu.a100 added and cpu.large dropped."""
    catalogue = catalogue_build(version=version)
    small = catalogue.classes[1].model_copy(update={"price_per_second": "0.002000"})
    gpu = small.model_copy(update={"name": "gpu.a100", "gpu_count": 2, "gpu_model": "A100", "weight": 8.0})
    catalogue = catalogue.model_copy(update={"classes": [small, gpu]})  # cpu.large dropped
    return catalogue, catalogue_sign(catalogue=catalogue, hotkey=owner)


def test_until_a_catalogue_is_applied_the_seeded_classes_stand_as_version_0(executor_classes):
    assert catalogue_state_get().version == 0
    assert [c.name for c in catalogue_build(version=1).classes] == ["cpu.large", "cpu.small"]


def test_the_owner_publishes_the_table_as_the_next_signed_version(owner, settings):
    first = catalogue_publish()
    assert catalogue_verify(envelope=first, owner_ss58=owner.ss58, netuid=settings.CHAIN_NETUID).version == 1
    second = catalogue_publish()
    state = CatalogueState.objects.get()
    assert (second.catalogue.version, state.version, state.owner) == (2, 2, owner.ss58)
    assert state.envelope == second.model_dump(mode="json")
    small = next(c for c in second.catalogue.classes if c.name == "cpu.small")
    assert (small.price_per_second, small.cpus, small.gpu_count) == ("0.001000", 1.0, 0)


def test_a_node_that_is_not_the_owner_cannot_publish(settings, node_key, make_hotkey, executor_classes):
    settings.SUBNET_OWNER_HOTKEY = make_hotkey().ss58
    with pytest.raises(CatalogueNotOwner):
        catalogue_publish()
    assert not CatalogueState.objects.exists()


def test_publish_if_changed_only_publishes_edits(owner, executor_classes):
    first = catalogue_publish_if_changed()
    assert first is not None
    assert first.catalogue.version == 1
    assert catalogue_publish_if_changed() is None
    ExecutorClass.objects.filter(name="cpu.small").update(weight=3.0)
    second = catalogue_publish_if_changed()
    assert second is not None
    assert second.catalogue.version == 2


def test_an_admin_save_on_the_owner_publishes_after_commit(owner, executor_classes, django_capture_on_commit_callbacks):
    row = executor_classes["cpu.small"]
    row.gpu_count = 1
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        executor_class_save(executor_class=row)
    assert len(callbacks) == 1
    row.refresh_from_db()
    assert row.gpu is True  # follows gpu_count
    assert catalogue_state_get().version == 1


def test_apply_upserts_and_deactivates_missing_classes_once(make_hotkey, executor_classes):
    key = make_hotkey()
    catalogue, envelope = gpu_catalogue(key, version=3)
    assert catalogue_apply(catalogue, envelope=envelope) == 3  # small changed, gpu created, large deactivated
    rows = {c.name: c for c in ExecutorClass.objects.all()}
    assert (rows["cpu.large"].is_active, rows["cpu.small"].price_per_second) == (False, Decimal("0.002"))
    gpu = rows["gpu.a100"]
    assert (gpu.gpu, gpu.gpu_count, gpu.gpu_model, gpu.weight, gpu.is_active) == (True, 2, "A100", 8.0, True)
    assert gpu.limits().gpu_count == 2
    state = catalogue_state_get()
    assert (state.version, state.owner, len(state.digest)) == (3, key.ss58, 64)
    # Not newer: nothing changes, even if the table drifted.
    ExecutorClass.objects.filter(name="cpu.large").update(is_active=True)
    assert catalogue_apply(catalogue, envelope=envelope) == 0
    assert ExecutorClass.objects.get(name="cpu.large").is_active
