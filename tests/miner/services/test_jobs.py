from decimal import Decimal

import pytest
from constance import config as constance_config
from django.utils import timezone

from executor.services.catalogue import catalogue_apply
from executor.services.hosts import executor_hosts_parse
from miner.models import AcceptedJob, ClassPriceFloor, ExecutorSlot, ShareDemand
from miner.services.executors import executor_hosts_sync, slot_release
from miner.services.jobs import Decline, job_finish, job_mark_running, job_reserve, job_set_status
from protocol.keys import hotkey_create
from protocol.messages.miner import DeclineReason, JobReserve
from tests.executor.services.test_catalogue import gpu_catalogue
from tests.factories import JOB_IMAGE, signed_reserve
from tests.miner.factories import AccessRuleFactory, KnownValidatorFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("min_validator_stake")]
SIGNER = hotkey_create()[0]


@pytest.fixture(autouse=True)
def miner(settings, executor_classes):
    settings.MINER_IMAGE_ALLOWLIST = []
    executor_hosts_sync(executor_hosts_parse("h1=local;cpu.small=1|h2=tcp://h2:2375;cpu.small=1"))


def _reserve(executor_class="cpu.small", image=JOB_IMAGE, job_uuid=None) -> JobReserve:
    # job_reserve does not read the signed receipt (the consumer checks it first: miner.services.receipts).
    return signed_reserve(
        validator=SIGNER, miner_hotkey=SIGNER.ss58, job_uuid=job_uuid, executor_class=executor_class, image=image
    )


def _declined(validator_hotkey, reserve) -> Decline:
    with pytest.raises(Decline) as info:
        job_reserve(validator_hotkey=validator_hotkey, reserve=reserve)
    assert not AcceptedJob.objects.filter(uuid=reserve.job_uuid).exists()
    assert not ExecutorSlot.objects.filter(job_uuid=reserve.job_uuid).exists()
    return info.value


def test_reserve_accepts_and_claims_a_slot(admitted_validator_key):
    reserve = _reserve()
    job, slot = job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=reserve)
    assert (job.uuid, job.validator_hotkey, job.executor_class, job.image) == (
        reserve.job_uuid,
        admitted_validator_key.ss58,
        "cpu.small",
        JOB_IMAGE,
    )
    assert job.status == AcceptedJob.Status.RESERVED
    assert job.host_name == slot.host.name
    assert slot.job_uuid == reserve.job_uuid


def test_unknown_executor_class_is_declined(admitted_validator_key):
    decline = _declined(admitted_validator_key.ss58, _reserve(executor_class="gpu.h100"))
    assert decline.reason == DeclineReason.UNKNOWN_CLASS
    assert "gpu.h100" in decline.detail


def test_class_this_miner_has_no_executors_of_is_declined(admitted_validator_key):
    decline = _declined(admitted_validator_key.ss58, _reserve(executor_class="cpu.large"))
    assert decline.reason == DeclineReason.UNKNOWN_CLASS
    assert decline.detail == "this miner has no cpu.large executors"


def test_inactive_class_is_declined(admitted_validator_key, executor_classes):
    executor_classes["cpu.small"].is_active = False
    executor_classes["cpu.small"].save()
    assert _declined(admitted_validator_key.ss58, _reserve()).reason == DeclineReason.UNKNOWN_CLASS


def test_a_class_the_catalogue_dropped_is_declined(admitted_validator_key, make_hotkey):
    executor_hosts_sync(executor_hosts_parse("h1=local;cpu.large=1"))
    assert job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=_reserve("cpu.large"))
    catalogue, envelope = gpu_catalogue(make_hotkey(), version=1)  # drops cpu.large
    catalogue_apply(catalogue, envelope=envelope)
    decline = _declined(admitted_validator_key.ss58, _reserve("cpu.large"))
    assert (decline.reason, decline.detail) == (DeclineReason.UNKNOWN_CLASS, "no executor class 'cpu.large'")


def test_busy_when_every_executor_of_the_class_is_taken(admitted_validator_key):
    first, _ = job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=_reserve())
    second, _ = job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=_reserve())
    assert {first.host_name, second.host_name} == {"h1", "h2"}
    decline = _declined(admitted_validator_key.ss58, _reserve())
    assert decline.reason == DeclineReason.BUSY
    # Finishing a job frees its executor for the next one.
    job_finish(job_uuid=first.uuid, status=AcceptedJob.Status.FINISHED, exit_code=0, seconds=1.5)
    _, slot = job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=_reserve())
    assert slot.host.name == first.host_name


def test_duplicate_job_is_declined_and_keeps_its_slot(admitted_validator_key):
    reserve = _reserve()
    job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=reserve)
    with pytest.raises(Decline) as info:
        job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=reserve)
    assert info.value.reason == DeclineReason.DUPLICATE
    assert ExecutorSlot.objects.filter(job_uuid=reserve.job_uuid).count() == 1
    assert AcceptedJob.objects.filter(uuid=reserve.job_uuid).count() == 1


def test_finished_job_cannot_be_reserved_again(admitted_validator_key):
    reserve = _reserve()
    job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=reserve)
    job_finish(job_uuid=reserve.job_uuid, status=AcceptedJob.Status.FINISHED)
    with pytest.raises(Decline) as info:
        job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=reserve)
    assert info.value.reason == DeclineReason.DUPLICATE
    assert not ExecutorSlot.objects.filter(job_uuid=reserve.job_uuid).exists()


@pytest.mark.parametrize(
    ("allowlist", "image", "allowed"),
    [
        (["meshwork/job-python:3.11"], "meshwork/job-python:3.11", True),
        (["meshwork/job-python:3.11"], "meshwork/job-python:3.12", False),
        (["meshwork/job-python:3.11"], "meshwork/job-python:3.11-evil", False),
        (["meshwork/*"], "meshwork/anything:1", True),
        (["meshwork/*"], "evil/meshwork:1", False),
        (["meshwork/job-python"], "meshwork/job-python:3.11", True),
        (["meshwork/job-python"], "meshwork/job-python@sha256:" + "a" * 64, True),
        (["meshwork/job"], "meshwork/job-evil:1", False),
        (["alpine", "meshwork/*"], "alpine:3.19", True),
        (["alpine"], "alpine-evil:1", False),
    ],
)
def test_image_allowlist(admitted_validator_key, settings, allowlist, image, allowed):
    settings.MINER_IMAGE_ALLOWLIST = allowlist
    reserve = _reserve(image=image)
    if allowed:
        job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=reserve)
        assert AcceptedJob.objects.filter(uuid=reserve.job_uuid).exists()
    else:
        decline = _declined(admitted_validator_key.ss58, reserve)
        assert decline.reason == DeclineReason.IMAGE_NOT_ALLOWED
        assert image in decline.detail


def test_an_allowlist_saved_in_the_admin_refuses_the_next_job_without_a_restart(admitted_validator_key):
    def accepted(image: str) -> None:
        reserve = _reserve(image=image)
        job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=reserve)
        slot_release(job_uuid=reserve.job_uuid)  # two executors only: free it for the next

    accepted("alpine:3.19")
    constance_config.MINER_IMAGE_ALLOWLIST = "meshwork/*, python"  # the admin's constance page saves text
    decline = _declined(admitted_validator_key.ss58, _reserve(image="alpine:3.19"))
    assert decline.reason == DeclineReason.IMAGE_NOT_ALLOWED
    accepted("python:3.12")
    constance_config.MINER_IMAGE_ALLOWLIST = ""  # emptied again: every image
    accepted("alpine:3.19")


def test_empty_allowlist_allows_any_image(admitted_validator_key):
    job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=_reserve(image="anything/at:all"))


def test_validator_no_longer_admitted_is_declined(admitted_validator_key):
    AccessRuleFactory.create(kind="hotkey", list="blacklist", key=admitted_validator_key.ss58)
    decline = _declined(admitted_validator_key.ss58, _reserve())
    assert decline.reason == DeclineReason.BLACKLISTED
    assert "blacklisted" in decline.detail


def test_unknown_validator_is_declined():
    assert _declined("5Stranger", _reserve()).reason == DeclineReason.BLACKLISTED


def test_status_tracking(admitted_validator_key):
    job, _ = job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=_reserve())
    job_mark_running(job_uuid=job.uuid)
    job.refresh_from_db()
    assert job.status == AcceptedJob.Status.RUNNING
    job_finish(job_uuid=job.uuid, status=AcceptedJob.Status.FAILED, exit_code=2, seconds=3.0, reason="x" * 100)
    job.refresh_from_db()
    assert (job.status, job.exit_code, job.executor_seconds, job.failure_reason) == ("failed", 2, 3.0, "x" * 64)
    assert not ExecutorSlot.objects.filter(job_uuid=job.uuid).exists()
    # A late "running" never overwrites the end.
    job_mark_running(job_uuid=job.uuid)
    job.refresh_from_db()
    assert job.status == AcceptedJob.Status.FAILED


def test_set_status_leaves_unspecified_fields(admitted_validator_key):
    job, _ = job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=_reserve())
    job_set_status(job_uuid=job.uuid, status=AcceptedJob.Status.RUNNING, exit_code=0, seconds=1.0)
    job_set_status(job_uuid=job.uuid, status=AcceptedJob.Status.FINISHED)
    job.refresh_from_db()
    assert (job.status, job.exit_code, job.executor_seconds) == ("finished", 0, 1.0)
    # The slot stays claimed until job_finish.
    assert ExecutorSlot.objects.filter(job_uuid=job.uuid).exists()


def test_a_class_priced_below_the_miners_floor_is_declined_unprofitable(admitted_validator_key):
    ClassPriceFloor.objects.create(executor_class="cpu.small", min_price=Decimal("0.0015"))
    decline = _declined(admitted_validator_key.ss58, _reserve())
    assert (decline.reason, decline.detail) == (
        DeclineReason.UNPROFITABLE,
        "cpu.small pays 0.001000/s, below this miner's floor of 0.001500/s",
    )
    assert not ShareDemand.objects.exists()  # priced out: not demand this miner keeps executors for


def test_a_floor_at_the_price_or_of_another_class_accepts(admitted_validator_key):
    ClassPriceFloor.objects.create(executor_class="cpu.small", min_price=Decimal("0.001"))
    ClassPriceFloor.objects.create(executor_class="cpu.large", min_price=Decimal("100"))
    job, _ = job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=_reserve())
    assert job.status == AcceptedJob.Status.RESERVED


def test_over_its_share_a_validator_is_declined_over_share(admitted_validator_key):
    other = KnownValidatorFactory.create(stake=5000)
    ShareDemand.objects.create(validator_hotkey=other.hotkey, executor_class="cpu.small", asked_at=timezone.now())
    # 2 executors split 5:1 → 2:0 (0.33 vs 1.67): nothing is ours, and both are kept for the other.
    decline = _declined(admitted_validator_key.ss58, _reserve())
    assert decline.reason == DeclineReason.OVER_SHARE
    assert "your share is 0" in decline.detail


def test_rented_executors_are_not_offered_to_jobs_until_the_rental_ends(admitted_validator_key):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from protocol.messages.common import JobSpec, RentalSpec

    key = ed25519.Ed25519PrivateKey.generate().public_key()
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    rentals = []
    for _ in range(2):
        reserve = _reserve(image="meshwork/rental-ssh:1")
        spec = JobSpec(
            image=reserve.image,
            executor_class="cpu.small",
            timeout_s=reserve.timeout_s,
            rental=RentalSpec(ssh_public_key=line),
        )
        rentals.append(
            job_reserve(
                validator_hotkey=admitted_validator_key.ss58, reserve=reserve.model_copy(update={"spec": spec})
            )[0]
        )

    assert _declined(admitted_validator_key.ss58, _reserve()).reason == DeclineReason.BUSY  # both are rented
    job_finish(job_uuid=rentals[0].uuid, status=AcceptedJob.Status.CANCELLED, seconds=30.0)  # a rental ended
    _, slot = job_reserve(validator_hotkey=admitted_validator_key.ss58, reserve=_reserve())
    assert slot.host.name == rentals[0].host_name
