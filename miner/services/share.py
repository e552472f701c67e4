"""Each validator's stake-proportional share of this miner's executors (docs/market.md).

A validator is entitled, per class, to the largest-remainder split of the class's executors by
stake. Within its entitlement it takes any free executor; beyond it, only if the executors left
free still cover the unused entitlements of the other validators that asked within
MINER_SHARE_WINDOW_S. So an idle miner serves a lone validator fully, and on a saturated one each
validator that keeps asking converges to its share. A validator within its share that finds every
executor taken gets one back: the newest job of a validator holding more than its share is
preempted (its validator retries it elsewhere, unbilled: `preempted` is an infrastructure
failure), and the asker is told `busy` until that executor is free, then served.

The decision and the claim happen under a lock on the class's slot rows (select_for_update), so
two processes reserving at once never both take the last executor kept for someone else."""

from collections import Counter
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from miner.models import ExecutorSlot, ShareDemand
from miner.selectors import share_entitlements
from miner.services.executors import slot_claim
from protocol.messages.miner import DeclineReason
from protocol.tunables import tunable


class ShareRefused(Exception):
    def __init__(self, reason: DeclineReason, detail: str, *, preempt: UUID | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason  # BUSY (nothing free) or OVER_SHARE (what is free is kept for others)
        self.detail = detail
        self.preempt = preempt  # the borrowed job to stop, so the asker's share comes back


def share_demand_note(*, validator_hotkey: str, executor_class: str) -> None:
    """Committed on its own, before the admission: a declined request is demand too. One upsert,
    so concurrent requests of one validator never collide on the row."""
    ShareDemand.objects.bulk_create(
        [ShareDemand(validator_hotkey=validator_hotkey, executor_class=executor_class, asked_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["validator_hotkey", "executor_class"],
        update_fields=["asked_at"],
    )


def share_slot_claim(*, validator_hotkey: str, executor_class: str, job_uuid: UUID) -> ExecutorSlot:
    """A free executor of the class for the validator's job, or ShareRefused."""
    share_demand_note(validator_hotkey=validator_hotkey, executor_class=executor_class)
    with transaction.atomic():
        slots = list(
            ExecutorSlot.objects.select_for_update()
            .filter(executor_class=executor_class)
            .order_by("id")
            .values_list("job_uuid", "validator_hotkey", "claimed_at")
        )
        held = Counter(hotkey for job, hotkey, _ in slots if job is not None)
        free = sum(1 for job, _, _ in slots if job is None)
        entitled = share_entitlements(total=len(slots))
        mine = entitled.get(validator_hotkey, 0)
        if free == 0:
            victim = _borrowed(slots, entitled, held) if held[validator_hotkey] < mine else None
            detail = f"all {executor_class} executors are busy"
            if victim is not None:
                detail += (
                    f"; one held beyond its share is being freed for you (you hold {held[validator_hotkey]} of {mine})"
                )
            raise ShareRefused(DeclineReason.BUSY, detail, preempt=victim)
        if held[validator_hotkey] >= mine:
            kept = _kept_for_others(validator_hotkey, executor_class, entitled, held)
            if free - 1 < kept:
                raise ShareRefused(
                    DeclineReason.OVER_SHARE,
                    f"you hold {held[validator_hotkey]} of {len(slots)} {executor_class} executors, your share "
                    f"is {mine}; the {free} free are kept for validators that hold less than theirs ({kept})",
                )
        slot = slot_claim(executor_class=executor_class, job_uuid=job_uuid, validator_hotkey=validator_hotkey)
        if slot is None:  # unreachable under the lock; kept so a change there cannot hand out nothing
            raise ShareRefused(DeclineReason.BUSY, f"all {executor_class} executors are busy")
        return slot


def _borrowed(
    slots: list[tuple[UUID | None, str, datetime | None]], entitled: dict[str, int], held: Counter[str]
) -> UUID | None:
    """The newest job of a validator holding more than its share (the least work lost), if any."""
    over = [
        (claimed_at, job)
        for job, hotkey, claimed_at in slots
        if job is not None and hotkey and held[hotkey] > entitled.get(hotkey, 0) and claimed_at is not None
    ]
    return max(over)[1] if over else None


def _kept_for_others(hotkey: str, executor_class: str, entitled: dict[str, int], held: Counter[str]) -> int:
    """The unused entitlements of the other validators that asked for the class recently."""
    since = timezone.now() - timedelta(seconds=float(tunable("MINER_SHARE_WINDOW_S")))
    recent = ShareDemand.objects.filter(executor_class=executor_class, asked_at__gte=since).exclude(
        validator_hotkey=hotkey
    )
    return sum(max(0, entitled.get(h, 0) - held[h]) for h in recent.values_list("validator_hotkey", flat=True))
