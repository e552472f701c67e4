"""The `catalogue:<netuid>` record: the subnet owner's signed executor-class catalogue
(protocol/catalogue.py). A node stores or believes one only if the owner both put the record and
signed the envelope, for this node's netuid, and it is not older than the newest it has seen: a
replayed old catalogue can never roll a node's classes back."""

from dht.engine.interfaces import Rejected
from dht.engine.records import Record
from dht.policy.namespaces import CATALOGUE, catalogue_key, namespace_of
from protocol.catalogue import CatalogueError, catalogue_digest, catalogue_verify


class CatalogueCheck:
    def __init__(self, *, owner_ss58: str, netuid: int | None) -> None:
        self._owner = owner_ss58
        self._netuid = netuid
        self._newest: dict[str, tuple[int, str]] = {}  # key → (version, digest) of the newest verified

    async def check(self, record: Record, now: float) -> None:
        if namespace_of(record.key) != CATALOGUE:
            return
        if not self._owner or self._netuid is None:
            raise Rejected("catalogue: no subnet owner configured")
        if record.key != catalogue_key(self._netuid):
            raise Rejected(f"catalogue: not this subnet's key {catalogue_key(self._netuid)!r}")
        if record.owner != self._owner:
            raise Rejected("catalogue: record not put by the subnet owner")
        try:
            catalogue = catalogue_verify(envelope=record.value, owner_ss58=self._owner, netuid=self._netuid)
        except CatalogueError as exc:
            raise Rejected(f"catalogue: {exc.reason}: {exc.detail}") from exc
        seen = (catalogue.version, catalogue_digest(catalogue))
        newest = self._newest.get(record.key)
        if newest is not None:
            # The same version is only the owner re-putting it with a fresh expiry.
            if seen[0] < newest[0] or (seen[0] == newest[0] and seen[1] != newest[1]):
                raise Rejected(f"catalogue: version {seen[0]} is not newer than the held {newest[0]}")
        self._newest[record.key] = max(seen, newest or seen)
