import threading
import uuid

import pytest
from django.db import connection

from executor.services.hosts import HostsConfigError, HostSpec, executor_hosts_parse
from miner.models import ExecutorHost, ExecutorSlot
from miner.selectors import executor_manifest
from miner.services.executors import (
    DuplicateClaim,
    executor_hosts_sync,
    executor_hosts_sync_from_settings,
    slot_claim,
    slot_release,
    slots_release_all,
)

pytestmark = pytest.mark.django_db


def _slots() -> list[tuple[str, str, int]]:
    return sorted(ExecutorSlot.objects.values_list("host__name", "executor_class", "index"))


# --- executor_hosts_parse -------------------------------------------------------------------


def test_parse_one_local_host():
    assert executor_hosts_parse("local=local;cpu.small=2") == [
        HostSpec(name="local", docker_url="local", classes={"cpu.small": 2})
    ]


def test_parse_several_hosts_and_classes_with_spaces():
    text = " gpu1=tcp://10.0.0.5:2376;gpu.a100=4, cpu.small=1 | local=unix:///var/run/docker.sock;cpu.large=0 |"
    assert executor_hosts_parse(text) == [
        HostSpec(name="gpu1", docker_url="tcp://10.0.0.5:2376", classes={"gpu.a100": 4, "cpu.small": 1}),
        HostSpec(name="local", docker_url="unix:///var/run/docker.sock", classes={"cpu.large": 0}),
    ]


def test_parse_host_without_classes_and_empty_text():
    assert executor_hosts_parse("h=local") == [HostSpec(name="h", docker_url="local", classes={})]
    assert executor_hosts_parse("") == []
    assert executor_hosts_parse(" | ") == []


@pytest.mark.parametrize(
    "text",
    [
        "local",  # no url
        "=local;cpu.small=1",  # no name
        "local=;cpu.small=1",  # no url
        "local=local;cpu.small",  # no count
        "local=local;cpu.small=two",
        "local=local;cpu.small=-1",
        "local=local;cpu.small=1.5",
        "ok=local;cpu.small=1|broken",
        "local=local;=2",  # no class
    ],
)
def test_parse_malformed(text):
    with pytest.raises(HostsConfigError):
        executor_hosts_parse(text)


# --- executor_hosts_sync --------------------------------------------------------------------


def test_sync_creates_hosts_and_slots():
    assert executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=2,cpu.large=1|b=tcp://b:2375;cpu.small=1")) == 4
    assert _slots() == [("a", "cpu.large", 0), ("a", "cpu.small", 0), ("a", "cpu.small", 1), ("b", "cpu.small", 0)]
    assert ExecutorHost.objects.get(name="b").docker_url == "tcp://b:2375"
    assert executor_manifest() == {"cpu.small": 3, "cpu.large": 1}


def test_sync_is_idempotent_and_follows_changes():
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=3"))
    ids = set(ExecutorSlot.objects.values_list("id", flat=True))
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=3"))
    assert set(ExecutorSlot.objects.values_list("id", flat=True)) == ids
    executor_hosts_sync(executor_hosts_parse("a=tcp://new:2375;cpu.small=1,cpu.large=1"))
    assert _slots() == [("a", "cpu.large", 0), ("a", "cpu.small", 0)]
    assert ExecutorHost.objects.get(name="a").docker_url == "tcp://new:2375"


def test_sync_keeps_busy_slots_when_shrinking():
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=3,cpu.large=1"))
    busy = ExecutorSlot.objects.get(executor_class="cpu.small", index=2)
    busy_large = ExecutorSlot.objects.get(executor_class="cpu.large")
    job, job_large = uuid.uuid4(), uuid.uuid4()
    ExecutorSlot.objects.filter(pk=busy.pk).update(job_uuid=job)
    ExecutorSlot.objects.filter(pk=busy_large.pk).update(job_uuid=job_large)
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=1"))
    assert _slots() == [("a", "cpu.large", 0), ("a", "cpu.small", 0), ("a", "cpu.small", 2)]
    assert ExecutorSlot.objects.get(pk=busy.pk).job_uuid == job
    # Once the job ends, the next sync removes the surplus slot.
    slot_release(job_uuid=job)
    slot_release(job_uuid=job_large)
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=1"))
    assert _slots() == [("a", "cpu.small", 0)]


def test_sync_removes_idle_hosts_no_longer_configured():
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=1|b=local;cpu.small=2"))
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=1"))
    assert _slots() == [("a", "cpu.small", 0)]
    assert not ExecutorHost.objects.filter(name="b").exists()


def test_sync_keeps_a_removed_host_while_any_of_its_slots_is_busy():
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=1|b=local;cpu.small=2"))
    job = uuid.uuid4()
    ExecutorSlot.objects.filter(host__name="b", index=0).update(job_uuid=job)
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=1"))
    # The busy slot (and so its host) must survive, whatever the host's other, idle slots.
    assert ExecutorSlot.objects.filter(job_uuid=job).exists()
    assert ExecutorHost.objects.filter(name="b").exists()
    # Its idle slot is gone, so no new job lands on a host that left the configuration.
    assert _slots() == [("a", "cpu.small", 0), ("b", "cpu.small", 0)]
    slot = slot_claim(executor_class="cpu.small", job_uuid=uuid.uuid4())
    assert slot is not None
    assert slot.host.name == "a"
    slot_release(job_uuid=job)
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=1"))
    assert not ExecutorHost.objects.filter(name="b").exists()


def test_sync_from_settings(settings):
    settings.MINER_EXECUTOR_HOSTS = "local=local;cpu.small=2"
    assert executor_hosts_sync_from_settings() == 2
    settings.MINER_EXECUTOR_HOSTS = "local=local;cpu.small"
    with pytest.raises(HostsConfigError):
        executor_hosts_sync_from_settings()


# --- slots ----------------------------------------------------------------------------------


@pytest.fixture
def two_small_slots():
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=2,cpu.large=1"))


def test_claim_and_release(two_small_slots):
    job = uuid.uuid4()
    slot = slot_claim(executor_class="cpu.small", job_uuid=job)
    assert slot is not None
    assert (slot.executor_class, slot.job_uuid, slot.host.name) == ("cpu.small", job, "a")
    assert slot.claimed_at is not None
    assert slot_release(job_uuid=job) is True
    slot.refresh_from_db()
    assert (slot.job_uuid, slot.claimed_at) == (None, None)
    assert slot_release(job_uuid=job) is False


def test_claims_get_distinct_slots_until_exhausted(two_small_slots):
    first = slot_claim(executor_class="cpu.small", job_uuid=uuid.uuid4())
    second = slot_claim(executor_class="cpu.small", job_uuid=uuid.uuid4())
    assert first is not None
    assert second is not None
    assert first.pk != second.pk
    assert slot_claim(executor_class="cpu.small", job_uuid=uuid.uuid4()) is None
    # Other classes are unaffected, unknown ones have nothing.
    assert slot_claim(executor_class="cpu.large", job_uuid=uuid.uuid4()) is not None
    assert slot_claim(executor_class="gpu.h100", job_uuid=uuid.uuid4()) is None
    assert first.job_uuid is not None
    slot_release(job_uuid=first.job_uuid)
    again = slot_claim(executor_class="cpu.small", job_uuid=uuid.uuid4())
    assert again is not None
    assert again.pk == first.pk


def test_release_all_frees_every_slot(two_small_slots):
    for _ in range(3):
        slot_claim(executor_class="cpu.small", job_uuid=uuid.uuid4()) or slot_claim(
            executor_class="cpu.large", job_uuid=uuid.uuid4()
        )
    assert slots_release_all() == 3
    assert not ExecutorSlot.objects.exclude(job_uuid=None).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_never_share_a_slot():
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=3"))
    barrier = threading.Barrier(8)
    claimed: list[int | None] = []

    def claim() -> None:
        try:
            barrier.wait()
            slot = slot_claim(executor_class="cpu.small", job_uuid=uuid.uuid4())
            claimed.append(slot.pk if slot else None)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [pk for pk in claimed if pk is not None]
    assert len(won) == 3
    assert len(set(won)) == 3
    assert claimed.count(None) == 5


def test_a_job_holding_a_slot_cannot_claim_another():
    executor_hosts_sync(executor_hosts_parse("a=local;cpu.small=2"))
    job = uuid.uuid4()
    assert slot_claim(executor_class="cpu.small", job_uuid=job) is not None
    with pytest.raises(DuplicateClaim):
        slot_claim(executor_class="cpu.small", job_uuid=job)
    assert ExecutorSlot.objects.filter(job_uuid=job).count() == 1
