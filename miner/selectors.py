"""Reads of the miner's tables: who may send jobs, and what executors this miner offers."""

from datetime import datetime

from django.conf import settings

from miner.models import (
    AccessRule,
    ExecutorHost,
    ExecutorSlot,
    HostSpecsRecord,
    KnownValidator,
    MinerReceipt,
    PublishedManifest,
)
from protocol.messages.manifest import HostManifest, HostSpecs, ManifestMessage
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
        if executors:
            hosts.append(
                HostManifest(name=host.name, executors=dict(sorted(executors.items())), specs=host_specs(host))
            )
    return ManifestMessage(hosts=hosts)


def manifest_published() -> ManifestMessage | None:
    row = PublishedManifest.objects.first()
    return ManifestMessage.model_validate(row.payload) if row else None


def receipts_served(*, after_id: int = 0, since: datetime | None = None, limit: int) -> list[MinerReceipt]:
    """Receipts with both signatures, oldest first by id (the cursor), at most `limit`."""
    rows = MinerReceipt.objects.filter(id__gt=after_id).exclude(validator_signature="").exclude(miner_signature="")
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return list(rows.order_by("id")[:limit])
