"""The validator's miner registry, synced from the chain (routing reads it: validator.selectors)."""

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from chain.interface import Role
from chain.selectors import chain_neurons
from protocol.messages.miner import ShareStanding
from validator.models import Miner, MinerDecline, MinerIncident
from validator.selectors import miner_get_by_hotkey


def miners_sync_from_chain() -> int:
    neurons = [n for n in chain_neurons() if n.role == Role.MINER]
    with transaction.atomic():
        for n in neurons:
            Miner.objects.update_or_create(
                hotkey=n.hotkey,
                defaults={
                    "coldkey": n.coldkey,
                    "uid": n.uid,
                    "address": n.address or "",
                    "stake": n.stake,
                    "is_active": True,
                },
            )
        Miner.objects.exclude(hotkey__in=[n.hotkey for n in neurons]).update(is_active=False)
    return len(neurons)


def miner_incident_record(*, hotkey: str, job_uuid: str, reason: str) -> None:
    miner = miner_get_by_hotkey(hotkey=hotkey)
    if miner is not None:
        MinerIncident.objects.create(miner=miner, job_uuid=job_uuid, reason=reason[:64])


def miner_decline_record(*, hotkey: str, job_uuid: UUID | None, executor_class: str, reason: str) -> None:
    """Kept to judge "busy" claims later against what the miner's receipts say it was running."""
    miner = miner_get_by_hotkey(hotkey=hotkey)
    if miner is not None:
        MinerDecline.objects.create(
            miner=miner, job_uuid=job_uuid, executor_class=executor_class[:64], reason=reason[:32], at=timezone.now()
        )


def miner_share_record(*, hotkey: str, standing: ShareStanding) -> None:
    """Where this validator stands in the miner's stake-proportional split, as the miner said."""
    share = {c.executor_class: {"entitled": c.entitled, "in_use": c.in_use, "total": c.total} for c in standing.classes}
    Miner.objects.filter(hotkey=hotkey).update(share=share, share_at=timezone.now())
