"""The record validator chain: signature → ownership and stake → schema (plus expiry first, as it
is free). Each check is a small object with `async check(record, now)`; a node runs the chain (its
engine's RecordValidator) on every record it is asked to store *and* on every record a lookup
returns, so a record is judged by its own owner's stake wherever it came from."""

import math
from collections import OrderedDict
from typing import Protocol

from pydantic import ValidationError

from dht.engine.config import DhtConfig
from dht.engine.interfaces import Rejected, StakeSource
from dht.engine.records import Record, record_signature_ok
from dht.policy.catalogue import CatalogueCheck
from dht.policy.namespaces import Namespace, namespace_of


class RecordCheck(Protocol):
    async def check(self, record: Record, now: float) -> None: ...


class ExpiryCheck:
    def __init__(self, *, namespaces: dict[str, Namespace], max_ttl_s: float, max_value_bytes: int) -> None:
        self._namespaces = namespaces
        self._max_ttl_s = max_ttl_s
        self._max_value_bytes = max_value_bytes

    async def check(self, record: Record, now: float) -> None:
        namespace = self._namespaces.get(namespace_of(record.key))
        if namespace is None:
            raise Rejected(f"unknown namespace {namespace_of(record.key)!r}")
        if record.expires <= now:
            raise Rejected("expired")
        cap = min(self._max_ttl_s, namespace.max_ttl_s)
        if record.expires > now + cap:
            # Without a cap a signer could pin a record forever: latest expiry wins.
            raise Rejected(f"expiry {record.expires - now:.0f}s ahead exceeds the {cap:.0f}s cap")
        if record.value_size() > self._max_value_bytes:
            raise Rejected(f"value exceeds {self._max_value_bytes} bytes")


class SignatureCheck:
    """Verified records are remembered by signature (bounded): the same record returned by several
    replicas, or re-sent by replication, is verified once. A cache hit requires the whole record to
    be equal, so a valid signature pasted onto other content still gets checked (and fails)."""

    def __init__(self, *, cache_size: int = 10_000) -> None:
        self._verified: OrderedDict[str, Record] = OrderedDict()
        self._cache_size = cache_size

    async def check(self, record: Record, now: float) -> None:
        if self._verified.get(record.sig) == record:
            return
        if not record_signature_ok(record):
            raise Rejected("bad signature")
        self._verified[record.sig] = record
        while len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)


class OwnershipCheck:
    """Each hotkey owns exactly one slot per key: the subkey named after it."""

    async def check(self, record: Record, now: float) -> None:
        if record.subkey != record.owner:
            raise Rejected("subkey is not the owner's hotkey")


class StakeCheck:
    def __init__(self, *, stake: StakeSource, namespaces: dict[str, Namespace], min_owner_stake: int) -> None:
        self._stake = stake
        self._namespaces = namespaces
        self._min_owner_stake = min_owner_stake

    async def check(self, record: Record, now: float) -> None:
        namespace = self._namespaces[namespace_of(record.key)]
        info = await self._stake.lookup(record.owner)
        if info is None:
            raise Rejected("owner not registered on chain")
        minimum = namespace.min_stake if namespace.min_stake is not None else self._min_owner_stake
        if info.stake < minimum:
            raise Rejected(f"owner stake {info.stake} below {minimum}")
        role = record.key.split(":", 1)[1] if namespace.role_from_key else namespace.role
        if role is not None and info.role != role:
            raise Rejected(f"owner's chain role is {info.role}, not {role}")


class SchemaCheck:
    def __init__(self, *, namespaces: dict[str, Namespace]) -> None:
        self._namespaces = namespaces

    async def check(self, record: Record, now: float) -> None:
        schema = self._namespaces[namespace_of(record.key)].schema
        if schema is None:
            return
        try:
            schema.model_validate(record.value)
        except (ValidationError, RecursionError, ValueError) as exc:
            raise Rejected(f"schema: {_first_error(exc)}") from exc


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError) and exc.errors():
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"[:200]
    return type(exc).__name__


class ValidatorChain:
    def __init__(self, checks: list[RecordCheck]) -> None:
        self.checks = checks

    async def validate(self, record: Record, now: float) -> None:
        if not math.isfinite(now):
            raise Rejected("clock")
        for check in self.checks:
            await check.check(record, now)


def validator_chain(
    *,
    stake: StakeSource,
    namespaces: dict[str, Namespace],
    config: DhtConfig,
    catalogue_owner: str = "",
    netuid: int | None = None,
) -> ValidatorChain:
    """The record checks of a node with `config`: expiry and size, signature, ownership, stake,
    schema, then the catalogue's owner and version (none is believed without `catalogue_owner`)."""
    min_owner_stake = config.min_owner_stake
    max_ttl_s, max_value_bytes = config.max_record_ttl_s, config.max_value_bytes
    return ValidatorChain(
        [
            ExpiryCheck(namespaces=namespaces, max_ttl_s=max_ttl_s, max_value_bytes=max_value_bytes),
            SignatureCheck(),
            OwnershipCheck(),
            StakeCheck(stake=stake, namespaces=namespaces, min_owner_stake=min_owner_stake),
            SchemaCheck(namespaces=namespaces),
            CatalogueCheck(owner_ss58=catalogue_owner, netuid=netuid),
        ]
    )
