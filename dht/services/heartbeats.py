"""Keeping the discovered heartbeats of validators and miners."""

import logging
from datetime import UTC, datetime

from django.db import transaction
from pydantic import ValidationError

from dht.engine.records import Record
from dht.models import NodeHeartbeat
from dht.policy.values import HeartbeatValue

logger = logging.getLogger(__name__)


def dht_heartbeats_sync(*, holder: str, records: list[Record]) -> int:
    """Upsert one row per hotkey from validated heartbeat records; an older heartbeat never
    replaces a newer one. Returns the number of rows written."""
    written = 0
    with transaction.atomic():
        for record in records:
            try:
                beat = HeartbeatValue.model_validate(record.value)
            except ValidationError as exc:  # validated on the way in: only a schema change lands here
                logger.warning("dht: heartbeat from %s does not parse, skipped: %s", record.owner, exc.errors()[:1])
                continue
            published = datetime.fromtimestamp(beat.published_at, tz=UTC)
            current = NodeHeartbeat.objects.filter(holder=holder, hotkey=record.owner).first()
            if current is not None and current.published_at >= published:
                continue
            NodeHeartbeat.objects.update_or_create(
                holder=holder,
                hotkey=record.owner,
                defaults={
                    "role": beat.role,
                    "state": beat.state.value,
                    "version": beat.version,
                    "addresses": beat.addresses,
                    "dht_address": beat.dht_address,
                    "manifest_digest": beat.manifest_digest,
                    "rtts_ms": beat.rtts_ms,
                    "published_at": published,
                    "expires_at": datetime.fromtimestamp(record.expires, tz=UTC),
                },
            )
            written += 1
    return written
