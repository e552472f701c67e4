"""Reads of the miner's tables: who may send jobs, and what executors this miner offers."""

from datetime import datetime
from decimal import Decimal
from typing import Literal, TypedDict

from django.conf import settings
from django.db.models import Count, FloatField, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Trunc

from miner.models import (
    AcceptedJob,
    AccessRule,
    ClassPriceFloor,
    ExecutorHost,
    ExecutorSlot,
    HostSpecsRecord,
    KnownValidator,
    MinerReceipt,
    PublishedManifest,
    StorageAllocation,
    StorageVolume,
    StoredShare,
)
from protocol.apportion import largest_remainder
from protocol.messages.manifest import HostManifest, HostSpecs, HostStorage, ManifestMessage
from protocol.messages.miner import ClassStanding
from protocol.receipts import ReceiptKind
from protocol.tunables import tunable


def validator_refusal(hotkey: str) -> str | None:
    """None to admit `hotkey`, else why it is refused: chain registration and stake (as last
    synced), then the admin's black- and whitelists."""
    known = KnownValidator.objects.filter(hotkey=hotkey).first()
    if known is None:
        return f"{hotkey} is not a validator registered on subnet {settings.CHAIN_NETUID}"
    minimum = tunable("MIN_VALIDATOR_STAKE")
    if known.stake < minimum:
        return f"{hotkey} has stake {known.stake} < minimum {minimum}"
    return _list_refusal(AccessRule.Kind.HOTKEY, hotkey) or _list_refusal(AccessRule.Kind.COLDKEY, known.coldkey)


def _list_refusal(kind: AccessRule.Kind, key: str) -> str | None:
    rules = AccessRule.objects.filter(kind=kind)
    if rules.filter(list=AccessRule.List.BLACKLIST, key=key).exists():
        return f"{kind} {key} is blacklisted"
    whitelist = rules.filter(list=AccessRule.List.WHITELIST)
    if whitelist.exists() and not whitelist.filter(key=key).exists():
        return f"{kind} {key} is not on the whitelist"
    return None


def executor_hosts_all() -> list[ExecutorHost]:
    return list(ExecutorHost.objects.all())


def executor_manifest() -> dict[str, int]:
    """Executor class → number of executors: what this miner offers."""
    counts: dict[str, int] = {}
    for cls in ExecutorSlot.objects.values_list("executor_class", flat=True):
        counts[cls] = counts.get(cls, 0) + 1
    return counts


def host_specs(host: ExecutorHost) -> HostSpecs:
    """The host's last collected specs; all zero before the first collection."""
    record = HostSpecsRecord.objects.filter(host=host).first()
    if record is None or not record.specs:
        return HostSpecs(cpu_cores=0, memory_mb=0, disk_mb=0)
    return HostSpecs.model_validate(record.specs)


def executor_slot_count() -> int:
    return ExecutorSlot.objects.count()


def manifest_current() -> ManifestMessage:
    """What this miner has right now: its slots per host and class, with each host's specs."""
    hosts = []
    for host in ExecutorHost.objects.order_by("name"):
        executors: dict[str, int] = {}
        for cls in host.slots.values_list("executor_class", flat=True):
            executors[cls] = executors.get(cls, 0) + 1
        storage = host_storage(host)
        if executors or storage is not None:
            hosts.append(
                HostManifest(
                    name=host.name, executors=dict(sorted(executors.items())), specs=host_specs(host), storage=storage
                )
            )
    return ManifestMessage(hosts=hosts, price_floors=price_floors() or None)


def price_floors() -> dict[str, str]:
    """Executor class → this miner's least price per executor-second, as decimal text."""
    return {cls: _price_text(p) for cls, p in ClassPriceFloor.objects.order_by("executor_class").values_list(
        "executor_class", "min_price"
    )}  # fmt: skip


def price_floor_get(*, executor_class: str) -> Decimal | None:
    return ClassPriceFloor.objects.filter(executor_class=executor_class).values_list("min_price", flat=True).first()


def _price_text(price: Decimal) -> str:
    return format(price.normalize(), "f")  # "0.5", "20": never "2E+1" nor "20.000000"


def share_entitlements(*, total: int) -> dict[str, int]:
    """Validator hotkey → executors of a class of `total` it is entitled to: the largest-remainder
    split by stake of the validators admitted now (a refused one gets none, so its stake is not
    kept idle for it). Two queries, however many validators: it runs on every reservation."""
    minimum = tunable("MIN_VALIDATOR_STAKE")
    rules = list(AccessRule.objects.values_list("kind", "list", "key"))
    stakes = {
        hotkey: stake if stake >= minimum and _admitted_by(rules, hotkey=hotkey, coldkey=coldkey) else 0
        for hotkey, coldkey, stake in KnownValidator.objects.filter(stake__gt=0).values_list(
            "hotkey", "coldkey", "stake"
        )
    }
    return largest_remainder(total, stakes)


def _admitted_by(rules: list[tuple[str, str, str]], *, hotkey: str, coldkey: str) -> bool:
    """The black- and whitelists as `validator_refusal` applies them, over rules read once."""
    for kind, key in ((AccessRule.Kind.HOTKEY, hotkey), (AccessRule.Kind.COLDKEY, coldkey)):
        listed = {(lst, k) for knd, lst, k in rules if knd == kind}
        if (AccessRule.List.BLACKLIST, key) in listed:
            return False
        whitelist = {k for lst, k in listed if lst == AccessRule.List.WHITELIST}
        if whitelist and key not in whitelist:
            return False
    return True


def share_standing(*, validator_hotkey: str) -> list[ClassStanding]:
    """Per class this miner has: what the validator is entitled to, holds now, and the total."""
    rows = ExecutorSlot.objects.values("executor_class").annotate(
        total=Count("id"), mine=Count("id", filter=Q(validator_hotkey=validator_hotkey, job_uuid__isnull=False))
    )
    standing = []
    for row in sorted(rows, key=lambda r: r["executor_class"]):
        entitled = share_entitlements(total=row["total"]).get(validator_hotkey, 0)
        standing.append(
            ClassStanding(
                executor_class=row["executor_class"], entitled=entitled, in_use=row["mine"], total=row["total"]
            )
        )
    return standing


def manifest_published() -> ManifestMessage | None:
    row = PublishedManifest.objects.first()
    return ManifestMessage.model_validate(row.payload) if row else None


def receipts_served(*, after_id: int = 0, since: datetime | None = None, limit: int) -> list[MinerReceipt]:
    """Receipts with both signatures, oldest first by id (the cursor), at most `limit`."""
    rows = _served().filter(id__gt=after_id)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return list(rows.order_by("id")[:limit])


def accepted_job_status_counts(*, since: datetime) -> dict[str, int]:
    """Jobs this miner accepted since `since`, per status (for /metrics)."""
    rows = AcceptedJob.objects.filter(created_at__gte=since).values_list("status").annotate(n=Count("pk")).order_by()
    return {status: n for status, n in rows}


# The miner's overview (miner/dashboard/): its executors now, its jobs, receipts and earnings over time.


def executors_per_class() -> dict[str, tuple[int, int]]:
    """Executor class → (executors, busy now)."""
    rows = ExecutorSlot.objects.values("executor_class").annotate(
        total=Count("id"), busy=Count("id", filter=Q(job_uuid__isnull=False))
    )
    return {row["executor_class"]: (row["total"], row["busy"]) for row in rows}


def accepted_job_buckets(*, since: datetime, step: Literal["hour", "day"]) -> dict[str, dict[datetime, int]]:
    """Job status → bucket start → jobs accepted in the bucket that now have that status."""
    rows = (
        AcceptedJob.objects.filter(created_at__gte=since)
        .annotate(at=Trunc("created_at", step))
        .values("status", "at")
        .annotate(n=Count("uuid"))
    )
    per_status: dict[str, dict[datetime, int]] = {}
    for row in rows:
        per_status.setdefault(row["status"], {})[row["at"]] = row["n"]
    return per_status


def receipt_buckets(*, since: datetime, step: Literal["hour", "day"]) -> dict[str, dict[datetime, int]]:
    """Receipt kind → bucket start → receipts stored with both signatures (the ones served)."""
    rows = (
        _served().filter(created_at__gte=since)
        .annotate(at=Trunc("created_at", step))
        .values("kind", "at")
        .annotate(n=Count("id"))
    )  # fmt: skip
    per_kind: dict[str, dict[datetime, int]] = {}
    for row in rows:
        per_kind.setdefault(row["kind"], {})[row["at"]] = row["n"]
    return per_kind


class CreditedSeconds(TypedDict):
    at: datetime
    job_kind: str  # organic | benchmark
    executor_class: str
    seconds: float


def credited_seconds(*, since: datetime, step: Literal["hour", "day"]) -> list[CreditedSeconds]:
    """What this miner is credited with: the executor-seconds of its `job_finished` receipts that
    both sides signed (the figure every validator scores it by, capped by what the validator
    observed), per bucket of the receipt's arrival, job kind and executor class."""
    seconds = Cast(KeyTextTransform("seconds", "payload"), FloatField())
    rows = (
        _served().filter(kind=ReceiptKind.JOB_FINISHED, created_at__gte=since)
        .annotate(at=Trunc("created_at", step), job_kind=KeyTextTransform("job_kind", "payload"),
                  executor_class=KeyTextTransform("executor_class", "payload"))
        .values("at", "job_kind", "executor_class")
        .annotate(seconds=Sum(seconds))
        .order_by("at")
    )  # fmt: skip
    return [
        CreditedSeconds(at=r["at"], job_kind=r["job_kind"] or "organic", executor_class=r["executor_class"] or "",
                        seconds=r["seconds"] or 0.0)
        for r in rows
    ]  # fmt: skip


def _served() -> "QuerySet[MinerReceipt]":
    return MinerReceipt.objects.exclude(validator_signature="").exclude(miner_signature="")


def host_storage(host: ExecutorHost) -> HostStorage | None:
    """The host's storage claim for the manifest; None (left out) when it sells none."""
    volume = StorageVolume.objects.filter(host=host, capacity_bytes__gt=0).first()
    if volume is None:
        return None
    used = volume.shares.aggregate(total=Sum("size"))["total"] or 0
    return HostStorage(capacity_bytes=volume.capacity_bytes, used_bytes=used)


def storage_space_summary(*, validator_hotkey: str) -> dict[str, int]:
    capacity = StorageVolume.objects.aggregate(total=Sum("capacity_bytes"))["total"] or 0
    used = StoredShare.objects.aggregate(total=Sum("size"))["total"] or 0
    mine = StoredShare.objects.filter(validator_hotkey=validator_hotkey).aggregate(total=Sum("size"))["total"] or 0
    quota = StorageAllocation.objects.filter(validator_hotkey=validator_hotkey).values_list("quota_bytes", flat=True)
    return {
        "capacity_bytes": int(capacity),
        "used_bytes": int(used),
        "quota_bytes": int(quota.first() or 0),
        "used_by_you_bytes": int(mine),
    }


class StorageRow(TypedDict):
    validator_hotkey: str
    stake: int
    quota_bytes: int
    used_bytes: int


def storage_allocation_rows() -> list[StorageRow]:
    """Per validator: stake, quota and what it stores here (the admin's storage chart)."""
    used = dict(
        StoredShare.objects.values("validator_hotkey").annotate(u=Sum("size")).values_list("validator_hotkey", "u")
    )
    rows: list[StorageRow] = [
        {
            "validator_hotkey": a.validator_hotkey,
            "stake": a.stake,
            "quota_bytes": a.quota_bytes,
            "used_bytes": int(used.pop(a.validator_hotkey, 0) or 0),
        }
        for a in StorageAllocation.objects.order_by("-quota_bytes", "validator_hotkey")
    ]
    rows += [{"validator_hotkey": h, "stake": 0, "quota_bytes": 0, "used_bytes": int(u or 0)} for h, u in used.items()]
    return rows
