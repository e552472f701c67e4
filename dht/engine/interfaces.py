"""What the engine needs from outside, as small interfaces: a judge of records, a stake table for
membership, and a persistence hook. The engine knows nothing else about who implements them
(dht.policy judges records for Meshwork; dht.persistence keeps state in Postgres)."""

from dataclasses import dataclass
from typing import Protocol

from dht.engine.record_store import StoreListener
from dht.engine.records import Record
from dht.engine.routing import Peer


class Rejected(Exception):
    """A record failed validation; `reason` is a short, loggable code plus detail."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecordValidator(Protocol):
    async def validate(self, record: Record, now: float) -> None:
        """Raise Rejected when the record must not be stored or believed."""


@dataclass(frozen=True)
class StakeInfo:
    stake: int
    role: str


class StakeSource(Protocol):
    async def lookup(self, hotkey: str) -> StakeInfo | None:
        """The hotkey's stake and role, or None when it is not registered."""


class PersistenceHook(StoreListener, Protocol):
    """Durable state behind the in-memory hot path: store changes arrive through the listener
    calls; the node flushes, sweeps and snapshots its routing table through the rest."""

    async def flush(self) -> None: ...

    async def sweep(self) -> int: ...

    async def save_peers(self, peers: list[Peer]) -> None: ...
