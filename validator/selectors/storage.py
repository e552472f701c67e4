"""Reads for storage: the miners a share may go to, and an object's placements."""

from uuid import UUID

from django.db.models import OuterRef, Subquery

from validator.models import Miner, MinerManifest, SharePlacement, StoredObject

LIVE = (SharePlacement.Status.PLACING, SharePlacement.Status.LIVE)


def manifest_storage_free(payload: object) -> int | None:
    """Bytes a manifest says are free over its hosts' `storage`; None when no host declares any.
    A claim only: placement asks the miner (and audits prove what it holds)."""
    hosts = payload.get("hosts") if isinstance(payload, dict) else None
    free, declared = 0, False
    for host in hosts if isinstance(hosts, list) else []:
        storage = host.get("storage") if isinstance(host, dict) else None
        if not isinstance(storage, dict):
            continue
        capacity, used = storage.get("capacity_bytes"), storage.get("used_bytes", 0)
        if isinstance(capacity, int) and isinstance(used, int) and capacity > 0:
            declared = True
            free += max(0, capacity - used)
    return free if declared else None


def storage_miner_candidates(*, exclude_coldkeys: set[str], exclude_miners: set[int] | None = None) -> list[Miner]:
    """Active miners with an address whose latest manifest declares storage, one per coldkey (the
    one claiming most free space), most free first; then miners that sent this validator no
    manifest yet (no link opened to them so far), whose space placement asks them for. A miner with
    no coldkey is its own coldkey."""
    latest = MinerManifest.objects.filter(miner=OuterRef("pk")).order_by("-received_at", "-id").values("payload")[:1]
    miners = (
        Miner.objects.filter(is_active=True)
        .exclude(address="")
        .exclude(pk__in=exclude_miners or set())
        .annotate(manifest=Subquery(latest))
        .order_by("pk")
    )
    best: dict[str, tuple[int, Miner]] = {}
    for miner in miners:
        free = -1 if miner.manifest is None else manifest_storage_free(miner.manifest)
        coldkey = miner.coldkey or miner.hotkey
        if free is None or coldkey in exclude_coldkeys:
            continue
        if coldkey not in best or free > best[coldkey][0]:
            best[coldkey] = (free, miner)
    return [miner for _, miner in sorted(best.values(), key=lambda fm: (-fm[0], fm[1].pk))]


def placements_live(*, object_id: UUID) -> list[SharePlacement]:
    return list(
        SharePlacement.objects.filter(object_id=object_id, status=SharePlacement.Status.LIVE)
        .select_related("miner")
        .order_by("index")
    )


def stored_object_find(*, object_id: UUID) -> StoredObject | None:
    return StoredObject.objects.filter(pk=object_id).first()


def placements_not_deleted(*, object_id: UUID) -> list[SharePlacement]:
    """Every placement that may still be on a miner (placing, live or lost)."""
    return list(
        SharePlacement.objects.filter(object_id=object_id)
        .exclude(status=SharePlacement.Status.DELETED)
        .select_related("miner")
    )
