"""The published manifest: the first one goes out whole, additions wait for the minimum interval,
removals go out at once, and the rule holds across restarts because the manifest is a row."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from executor.services.hosts import executor_hosts_parse
from miner.models import ClassPriceFloor, ExecutorHost, PublishedManifest
from miner.selectors import manifest_published
from miner.services.executors import executor_hosts_sync
from miner.services.manifest import manifest_for_heartbeat, manifest_publish
from miner.services.specs import host_specs_store
from protocol.messages.manifest import HostSpecs

pytestmark = pytest.mark.django_db
INTERVAL_S = 7200.0


@pytest.fixture(autouse=True)
def interval(settings):
    settings.MINER_MANIFEST_MIN_INTERVAL_S = INTERVAL_S


def _configure(text: str) -> None:
    executor_hosts_sync(executor_hosts_parse(text))


def test_the_first_manifest_is_published_whole_with_the_host_specs(django_capture_on_commit_callbacks):
    _configure("a=local;cpu.small=2|b=tcp://b:2375;cpu.large=1")
    specs = HostSpecs(cpu_model="Xeon", cpu_cores=8, memory_mb=16000, disk_mb=100, docker_engine_id="ENGINE")
    host_specs_store(host=ExecutorHost.objects.get(name="a"), specs=specs)
    with django_capture_on_commit_callbacks() as callbacks:
        manifest, changed = manifest_publish()
    assert changed
    assert len(callbacks) == 1
    assert manifest.totals() == {"cpu.small": 2, "cpu.large": 1}
    assert [(h.name, h.executors, h.specs.docker_engine_id) for h in manifest.hosts] == [
        ("a", {"cpu.small": 2}, "ENGINE"),
        ("b", {"cpu.large": 1}, ""),
    ]
    assert manifest_published() == manifest


def test_an_unchanged_manifest_is_not_pushed_again(django_capture_on_commit_callbacks):
    _configure("a=local;cpu.small=1")
    first, _ = manifest_publish()
    with django_capture_on_commit_callbacks() as callbacks:
        again, changed = manifest_publish()
    assert (again, changed, callbacks) == (first, False, [])


def test_executors_added_within_the_interval_are_held_back_until_it_passes():
    _configure("a=local;cpu.small=1")
    start = timezone.now()
    manifest_publish(now=start)
    _configure("a=local;cpu.small=3|b=local;cpu.large=1")
    held, changed = manifest_publish(now=start + timedelta(seconds=INTERVAL_S - 1))
    assert (held.totals(), changed) == ({"cpu.small": 1}, False)
    later, changed = manifest_publish(now=start + timedelta(seconds=INTERVAL_S))
    assert (later.totals(), changed) == ({"cpu.small": 3, "cpu.large": 1}, True)
    assert PublishedManifest.objects.get().published_at == start + timedelta(seconds=INTERVAL_S)


def test_a_removal_goes_out_at_once_and_additions_still_wait(django_capture_on_commit_callbacks):
    _configure("a=local;cpu.small=2|b=local;cpu.large=1")
    start = timezone.now()
    manifest_publish(now=start)
    _configure("a=local;cpu.small=1,cpu.large=4")  # b gone, a loses one, a gains a class
    with django_capture_on_commit_callbacks() as callbacks:
        manifest, changed = manifest_publish(now=start + timedelta(seconds=60))
    assert changed
    assert len(callbacks) == 1
    assert [(h.name, h.executors) for h in manifest.hosts] == [("a", {"cpu.small": 1})]
    # The removal did not restart the clock: the addition goes out when the first interval ends.
    assert PublishedManifest.objects.get().published_at == start
    manifest, changed = manifest_publish(now=start + timedelta(seconds=INTERVAL_S))
    assert manifest.totals() == {"cpu.small": 1, "cpu.large": 4}


def test_the_rule_survives_a_restart_because_the_manifest_is_stored():
    _configure("a=local;cpu.small=1")
    start = timezone.now()
    manifest_publish(now=start)
    PublishedManifest.objects.update(published_at=start - timedelta(seconds=60))  # as a previous run left it
    _configure("a=local;cpu.small=2")
    manifest, changed = manifest_publish(now=start)
    assert (manifest.totals(), changed) == ({"cpu.small": 1}, False)


def test_the_heartbeat_digest_source_is_the_published_manifest():
    assert manifest_for_heartbeat() == ""
    _configure("a=local;cpu.small=1")
    manifest, _ = manifest_publish()
    _configure("a=local;cpu.small=2")  # held back: the heartbeat must not announce it either
    assert manifest_for_heartbeat() == manifest.model_dump(mode="json")


def test_price_floors_go_out_at_once_even_within_the_interval():
    _configure("a=local;cpu.small=2")
    first, _ = manifest_publish()
    assert first.price_floors is None
    assert "price_floors" not in first.model_dump(mode="json")  # a manifest without floors is as before
    ClassPriceFloor.objects.create(executor_class="cpu.small", min_price=Decimal("0.002000"))
    _configure("a=local;cpu.small=3")  # an addition: held back, the floor is not
    manifest, changed = manifest_publish(now=timezone.now() + timedelta(seconds=1))
    assert changed
    assert manifest.price_floors == {"cpu.small": "0.002"}
    assert manifest.totals() == {"cpu.small": 2}
    assert manifest_published() == manifest


def test_a_removed_floor_leaves_the_manifest_without_the_field():
    _configure("a=local;cpu.small=1")
    ClassPriceFloor.objects.create(executor_class="cpu.small", min_price=Decimal(0))
    assert manifest_publish()[0].price_floors == {"cpu.small": "0"}
    ClassPriceFloor.objects.all().delete()
    manifest, changed = manifest_publish()
    assert changed
    assert manifest.price_floors is None
