"""The records this node holds, in memory (the hot path), with a listener that persists changes.

Per (key, subkey) the record that expires last wins; equal expiries are broken by signature so every
replica converges on the same record. Capacity is bounded both per key and overall."""

import enum
from collections.abc import Iterator
from typing import Any, Protocol

from dht.engine.codec import canonical_or_error
from dht.engine.records import Record


class PutOutcome(enum.StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    STALE = "stale"
    FULL = "full"


# STORE outcomes meaning the peer now holds the record (a STORE reply carries these values, or
# "rejected: <reason>"; StrEnum members compare equal to them).
HELD = frozenset({PutOutcome.STORED, PutOutcome.DUPLICATE, PutOutcome.STALE})


class StoreListener(Protocol):
    def record_stored(self, record: Record) -> None: ...

    def records_dropped(self, keys: list[tuple[str, str]]) -> None: ...


class RecordStore:
    def __init__(self, *, max_records: int, max_subkeys_per_key: int, listener: StoreListener | None = None) -> None:
        self._max_records = max_records
        self._max_subkeys = max_subkeys_per_key
        self.listener = listener
        # Each record is kept with its wire dict and encoded size, computed once at store time.
        self._data: dict[str, dict[str, tuple[Record, dict[str, Any], int]]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def current(self, key: str, subkey: str) -> Record | None:
        entry = self._data.get(key, {}).get(subkey)
        return entry[0] if entry else None

    def precheck(self, record: Record) -> PutOutcome | None:
        """The outcome decided without validating the record, or None if it could be stored.

        Run before the (costly) validator chain: a re-sent copy or an older version is settled by
        comparing with what we hold, so replication traffic costs no signature checks."""
        held = self.current(record.key, record.subkey)
        if held is not None:
            if held.sig == record.sig and held == record:
                return PutOutcome.DUPLICATE
            if not record.supersedes(held):
                return PutOutcome.STALE
            return None
        if self._count >= self._max_records or len(self._data.get(record.key, {})) >= self._max_subkeys:
            return PutOutcome.FULL
        return None

    def put(self, record: Record, *, notify: bool = True) -> PutOutcome:
        """Store an already validated record."""
        outcome = self.precheck(record)
        if outcome is not None:
            return outcome
        slot = self._data.setdefault(record.key, {})
        if record.subkey not in slot:
            self._count += 1
        wire = record.wire()
        slot[record.subkey] = (record, wire, len(canonical_or_error(wire)))
        if notify and self.listener is not None:
            self.listener.record_stored(record)
        return PutOutcome.STORED

    def page(
        self, key: str, *, after: str | None, budget_bytes: int
    ) -> tuple[list[tuple[Record, dict[str, Any]]], bool]:
        """(record, wire dict) of `key` in subkey order after `after`, as many as fit in `budget_bytes`."""
        slot = self._data.get(key, {})
        out: list[tuple[Record, dict[str, Any]]] = []
        used = 0
        for subkey in sorted(slot):
            if after is not None and subkey <= after:
                continue
            record, wire, size = slot[subkey]
            if used + size > budget_bytes and out:
                return out, True
            out.append((record, wire))
            used += size + 1
        return out, False

    def records_of(self, key: str) -> list[Record]:
        return [entry[0] for entry in self._data.get(key, {}).values()]

    def records(self) -> Iterator[Record]:
        for slot in list(self._data.values()):
            for entry in list(slot.values()):
                yield entry[0]

    def sweep(self, now: float) -> int:
        dropped: list[tuple[str, str]] = []
        for key, slot in list(self._data.items()):
            for subkey, entry in list(slot.items()):
                if entry[0].expires <= now:
                    del slot[subkey]
                    dropped.append((key, subkey))
            if not slot:
                del self._data[key]
        self._count -= len(dropped)
        if dropped and self.listener is not None:
            self.listener.records_dropped(dropped)
        return len(dropped)
