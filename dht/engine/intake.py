"""Judging and keeping records: every record a peer asks us to store, and every record a lookup
returns, goes through the validator; a valid write that changes state is charged to its owner's
write budget."""

import re
from collections.abc import Callable

from dht.engine.droplog import DropLog
from dht.engine.interfaces import RecordValidator, Rejected
from dht.engine.ratelimit import TokenBuckets
from dht.engine.record_store import PutOutcome, RecordStore
from dht.engine.records import Record

# Where a rejection's fixed words end: its detail (after a colon), a figure, a quoted name.
_DETAIL_STARTS = re.compile(r":|\d| '")


def rejection_class(reason: str) -> str:
    """The fixed words of a rejection, without the figures and names a peer chooses: drops are
    counted and rate-limited per reason, so a reason a peer can vary must not become a new one
    (found by tests/fuzz: expiries and namespaces made a fresh reason, and a log line, per record)."""
    return _DETAIL_STARTS.split(reason, maxsplit=1)[0].strip()[:60]


class RecordIntake:
    def __init__(
        self,
        *,
        store: RecordStore,
        validator: RecordValidator,
        owner_rate: TokenBuckets,
        drops: DropLog,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._validator = validator
        self._owner_rate = owner_rate
        self._drops = drops
        self._clock = clock

    async def check(self, record: Record) -> str | None:
        """Run the validator; returns the rejection reason or None."""
        try:
            await self._validator.validate(record, self._clock())
        except Rejected as exc:
            return exc.reason
        return None

    async def accept(self, record: Record, *, source: object) -> str:
        """Validate and store a record a peer (or we) asked us to hold; returns the outcome."""
        early = self._store.precheck(record)
        if early in (PutOutcome.DUPLICATE, PutOutcome.STALE):
            return early.value
        if early is PutOutcome.FULL:
            self._drops.drop("store full", source)
            return early.value
        reason = await self.check(record)
        if reason is not None:
            self._drops.drop(f"record rejected: {rejection_class(reason)}", source)
            return f"rejected: {reason}"
        # Charged only for a valid write that changes state: replicas re-sending a record we already
        # hold are free, and a forger cannot spend its victim's budget.
        if not self._owner_rate.allow(record.owner):
            self._drops.drop("owner over write rate", source)
            return "rejected: owner over write rate"
        return self._store.put(record).value
