"""The manifest validators see. A change goes out at most once every MINER_MANIFEST_MIN_INTERVAL_S,
except a removal, which goes out at once: within the interval the last published manifest is
kept, cut down to what still exists (so it never claims executors that are gone), and added
executors wait for the interval to pass. The published manifest is a row, so the rule survives
restarts; every change is pushed to the open connections after commit."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from miner.models import PublishedManifest
from miner.notify import manifest_push_on_commit
from miner.selectors import manifest_current, manifest_published
from protocol.messages.manifest import ManifestMessage


def manifest_held_back(*, published: ManifestMessage, current: ManifestMessage) -> ManifestMessage:
    """`published` with each host's classes cut to at most what `current` has; specs as published,
    price floors as they are now (a raised floor must not wait: it declines what it used to take)."""
    now = {host.name: host for host in current.hosts}
    hosts = []
    for host in published.hosts:
        there = now.get(host.name)
        if there is None:
            continue
        executors = {cls: min(n, there.executors.get(cls, 0)) for cls, n in host.executors.items()}
        executors = {cls: n for cls, n in executors.items() if n}
        if executors:
            hosts.append(host.model_copy(update={"executors": executors}))
    return ManifestMessage(hosts=hosts, price_floors=current.price_floors)


@transaction.atomic
def manifest_publish(*, now: datetime | None = None) -> tuple[ManifestMessage, bool]:
    """The manifest to send now, and whether it changed (then it is stored and pushed)."""
    now = now or timezone.now()
    current = manifest_current()
    row, created = PublishedManifest.objects.get_or_create(
        id=1, defaults={"payload": _payload(current), "published_at": now}
    )
    if created:
        manifest_push_on_commit(current)
        return current, True
    row = PublishedManifest.objects.select_for_update().get(id=1)  # one publisher at a time
    published = ManifestMessage.model_validate(row.payload)
    interval_over = (now - row.published_at).total_seconds() >= settings.MINER_MANIFEST_MIN_INTERVAL_S
    candidate = current if interval_over else manifest_held_back(published=published, current=current)
    if candidate == published:
        return published, False
    row.payload = _payload(candidate)
    if interval_over:  # a removal alone does not restart the clock on additions
        row.published_at = now
    row.save(update_fields=["payload", "published_at"])
    manifest_push_on_commit(candidate)
    return candidate, True


def manifest_for_heartbeat() -> dict[str, Any] | str:
    """The DHT_MANIFEST_PROVIDER: the published manifest, so the heartbeat's digest matches what
    validators were sent ("" before the first publication)."""
    published = manifest_published()
    return published.model_dump(mode="json") if published else ""


def _payload(manifest: ManifestMessage) -> dict[str, Any]:
    return manifest.model_dump(mode="json")
