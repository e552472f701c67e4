"""Accepting, declining and tracking jobs on the miner."""

from typing import TypedDict, Unpack
from uuid import UUID

from django.db import IntegrityError, transaction

from executor.selectors import executor_class_get, executor_class_is_active
from miner.models import AcceptedJob, ExecutorSlot
from miner.selectors import price_floor_get, validator_refusal
from miner.services.executors import DuplicateClaim, slot_release
from miner.services.share import ShareRefused, share_slot_claim
from protocol.messages.miner import DeclineReason, JobReserve
from protocol.tunables import tunable


class Decline(Exception):
    """`preempt`: a job held beyond its validator's share, to stop so this one's share comes back."""

    def __init__(self, reason: DeclineReason, detail: str = "", *, preempt: UUID | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.preempt = preempt


def job_reserve(*, validator_hotkey: str, reserve: JobReserve) -> tuple[AcceptedJob, ExecutorSlot]:
    """Claim an executor for the job or raise `Decline` with the reason. Access is checked again
    here, not only at the handshake: links are long-lived and the admin's lists or the chain
    may have changed since."""
    refusal = validator_refusal(validator_hotkey)
    if refusal is not None:
        raise Decline(DeclineReason.BLACKLISTED, refusal)
    if not executor_class_is_active(name=reserve.executor_class):
        raise Decline(DeclineReason.UNKNOWN_CLASS, f"no executor class {reserve.executor_class!r}")
    if not ExecutorSlot.objects.filter(executor_class=reserve.executor_class).exists():
        raise Decline(DeclineReason.UNKNOWN_CLASS, f"this miner has no {reserve.executor_class} executors")
    _price_check(reserve.executor_class)
    allow = tunable("MINER_IMAGE_ALLOWLIST")
    if allow and not any(_image_allowed(reserve.image, entry) for entry in allow):
        raise Decline(DeclineReason.IMAGE_NOT_ALLOWED, f"{reserve.image} is not on this miner's allowlist")
    if AcceptedJob.objects.filter(uuid=reserve.job_uuid).exists():
        raise Decline(DeclineReason.DUPLICATE, "this job was already accepted here")
    try:
        slot = share_slot_claim(
            validator_hotkey=validator_hotkey, executor_class=reserve.executor_class, job_uuid=reserve.job_uuid
        )
    except DuplicateClaim as exc:
        raise Decline(DeclineReason.DUPLICATE, "this job was already accepted here") from exc
    except ShareRefused as exc:
        raise Decline(exc.reason, exc.detail, preempt=exc.preempt) from exc
    try:
        with transaction.atomic():
            job = AcceptedJob.objects.create(
                uuid=reserve.job_uuid,
                validator_hotkey=validator_hotkey,
                executor_class=reserve.executor_class,
                image=reserve.image,
                host_name=slot.host.name,
            )
    except IntegrityError as exc:
        slot_release(job_uuid=reserve.job_uuid)
        raise Decline(DeclineReason.DUPLICATE, "this job was already accepted here") from exc
    return job, slot


def _price_check(executor_class: str) -> None:
    """Declines `unprofitable` when the class's price (the catalogue's) is below this miner's floor."""
    floor = price_floor_get(executor_class=executor_class)
    if floor is None:
        return
    price = executor_class_get(name=executor_class).price_per_second
    if price < floor:
        raise Decline(
            DeclineReason.UNPROFITABLE, f"{executor_class} pays {price}/s, below this miner's floor of {floor}/s"
        )


def _image_allowed(image: str, entry: str) -> bool:
    """`repo:tag` allows exactly that, `repo` any tag or digest of it, `prefix*` anything under it."""
    if entry.endswith("*"):
        return image.startswith(entry[:-1])
    return image == entry or image.startswith((entry + ":", entry + "@"))


class JobEnd(TypedDict, total=False):
    """What a job's end may record besides its status."""

    exit_code: int | None
    seconds: float | None
    reason: str


def job_set_status(*, job_uuid: UUID, status: AcceptedJob.Status, **end: Unpack[JobEnd]) -> None:
    fields: dict[str, object] = {"status": status}
    if end.get("exit_code") is not None:
        fields["exit_code"] = end["exit_code"]
    if end.get("seconds") is not None:
        fields["executor_seconds"] = end["seconds"]
    if end.get("reason"):
        fields["failure_reason"] = end["reason"][:64]
    AcceptedJob.objects.filter(uuid=job_uuid).update(**fields)


def job_mark_running(*, job_uuid: UUID) -> None:
    """Only a reserved job becomes running: a job that already ended stays ended."""
    AcceptedJob.objects.filter(uuid=job_uuid, status=AcceptedJob.Status.RESERVED).update(
        status=AcceptedJob.Status.RUNNING
    )


def job_finish(*, job_uuid: UUID, status: AcceptedJob.Status, **end: Unpack[JobEnd]) -> None:
    """Record the end and free the executor, whatever happened."""
    try:
        job_set_status(job_uuid=job_uuid, status=status, **end)
    finally:
        slot_release(job_uuid=job_uuid)
