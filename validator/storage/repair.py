"""Repair (docs/storage.md): placements that keep failing audits, or whose miner left, are `lost`;
their shares are rebuilt from k intact ones and placed, sealed anew, on miners of coldkeys the
object does not use yet. The lost copies are deleted on their miners when they answer."""

import logging
from uuid import UUID

from protocol.storage.erasure import NotEnoughShares, shares_encode
from validator.models import SharePlacement, StoredObject
from validator.selectors.storage import placements_live, storage_miner_candidates
from validator.services.storage_audits import object_health_send, objects_needing_repair, placements_mark_lost
from validator.services.storage_objects import placement_mark
from validator.storage.placement import share_place
from validator.storage.retrieval import object_ciphertext_read
from validator.storage.transport import TransportFailure, share_delete

logger = logging.getLogger(__name__)


def object_repair(object_id: UUID) -> int:
    """Shares rebuilt for the object (0 when it needed none or none could be placed)."""
    obj = StoredObject.objects.get(id=object_id)
    try:
        ciphertext = object_ciphertext_read(obj)
    except NotEnoughShares as exc:
        logger.error("storage: object %s cannot be repaired: %s", obj.id, exc)
        return 0
    live = placements_live(object_id=obj.id)
    missing = sorted(set(range(obj.n)) - {p.index for p in live})
    shares = shares_encode(ciphertext, k=obj.k, n=obj.n)
    used_coldkeys = {p.coldkey for p in live}
    used_miners = {p.miner_id for p in live} | set(
        SharePlacement.objects.filter(object=obj, status=SharePlacement.Status.LOST).values_list("miner_id", flat=True)
    )
    rebuilt = 0
    for index in missing:
        for miner in storage_miner_candidates(exclude_coldkeys=used_coldkeys, exclude_miners=used_miners):
            used_miners.add(miner.pk)
            placement = share_place(obj=obj, index=index, share=shares[index], miner=miner)
            if placement is not None:
                used_coldkeys.add(placement.coldkey)
                rebuilt += 1
                break
    if rebuilt:
        object_health_send(object_id=obj.id)
    return rebuilt


def lost_shares_delete() -> int:
    """Best effort: a lost share still on a miner that answers is deleted there."""
    deleted = 0
    for placement in SharePlacement.objects.filter(status=SharePlacement.Status.LOST).select_related("miner")[:200]:
        try:
            share_delete(miner=placement.miner, share_id=placement.id)
        except TransportFailure:
            continue  # down or refusing: tried again on the next sweep
        placement_mark(
            placement_id=placement.id, status=SharePlacement.Status.DELETED, lost_reason=placement.lost_reason
        )
        deleted += 1
    return deleted


def repairs_run_due() -> dict[str, int]:
    lost = placements_mark_lost()
    for object_id in lost:
        object_health_send(object_id=object_id)  # the facilitator sees fewer shares at once
    rebuilt = sum(object_repair(object_id) for object_id in objects_needing_repair())
    return {"objects_degraded": len(lost), "shares_rebuilt": rebuilt, "lost_deleted": lost_shares_delete()}
