"""Persisting held records: newest-wins upserts, deletes and the expiry sweep."""

from datetime import UTC, datetime

from django.db import connection, transaction
from django.utils import timezone

from dht.engine.codec import canonical_or_error
from dht.engine.records import Record
from dht.models import StoredRecord

# The same rule as in memory: a row is never replaced by a record expiring earlier (the in-memory
# store already settled equal-expiry ties by signature before queueing the write).
_UPSERT = """
INSERT INTO dht_storedrecord
    (holder, key, subkey, owner, value, wire, expires, expires_at, stored_at)
VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s, now())
ON CONFLICT (holder, key, subkey) DO UPDATE SET
    owner = EXCLUDED.owner, value = EXCLUDED.value, wire = EXCLUDED.wire,
    expires = EXCLUDED.expires, expires_at = EXCLUDED.expires_at, stored_at = now()
WHERE dht_storedrecord.expires <= EXCLUDED.expires
"""


def dht_records_save(*, holder: str, records: list[Record], dropped: list[tuple[str, str]]) -> None:
    rows = [
        (
            holder,
            r.key,
            r.subkey,
            r.owner,
            canonical_or_error(r.value).decode(),
            canonical_or_error(r.wire()).decode(),
            r.expires,
            datetime.fromtimestamp(r.expires, tz=UTC),
        )
        for r in records
    ]
    with transaction.atomic():
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(_UPSERT, rows)
        for key, subkey in dropped:
            StoredRecord.objects.filter(holder=holder, key=key, subkey=subkey).delete()


def dht_records_sweep(*, holder: str | None = None) -> int:
    """Delete expired rows (of one holder, or all); returns how many."""
    rows = StoredRecord.objects.filter(expires_at__lte=timezone.now())
    if holder is not None:
        rows = rows.filter(holder=holder)
    deleted, _ = rows.delete()
    return deleted
