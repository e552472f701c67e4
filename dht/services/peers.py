"""Snapshotting the routing table."""

from datetime import UTC, datetime

from django.db import transaction

from dht.engine.routing import Peer
from dht.models import KnownPeer


def dht_peers_replace(*, holder: str, peers: list[Peer]) -> None:
    """Replace the stored snapshot with the current table (it is small: ≤ k per bucket)."""
    with transaction.atomic():
        KnownPeer.objects.filter(holder=holder).delete()
        KnownPeer.objects.bulk_create(
            KnownPeer(
                holder=holder,
                hotkey=p.hotkey,
                host=p.host,
                port=p.port,
                last_seen_at=datetime.fromtimestamp(p.last_seen or 0.0, tz=UTC),
            )
            for p in peers
        )
