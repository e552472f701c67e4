"""Reads other parts of a node use: live validators and miners (from DHT heartbeats), and the
DHT process's own persisted state."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from pydantic import ValidationError

from chain.interface import Role
from dht.engine.records import Record
from dht.engine.routing import Peer
from dht.models import KnownPeer, NodeHeartbeat, OwnScoreCommit, StoredRecord, ValidatorAgreement
from dht.policy.values import NodeState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveNode:
    hotkey: str
    role: str
    state: str
    version: str
    addresses: list[str]
    dht_address: str
    manifest_digest: str
    rtts_ms: dict[str, float]
    last_heartbeat_at: datetime
    expires_at: datetime


def dht_live_nodes(
    *, role: Role | None = None, holder: str | None = None, lapse_s: float | None = None
) -> list[LiveNode]:
    """Validators/miners whose latest heartbeat says ONLINE and is fresh (published within
    `lapse_s`, default DHT_HEARTBEAT_LAPSE_S, and not expired). A node that stops heartbeating or
    announces OFFLINE drops out of this list: route only to these."""
    now = timezone.now()
    lapse = timedelta(seconds=lapse_s if lapse_s is not None else settings.DHT_HEARTBEAT_LAPSE_S)
    rows = NodeHeartbeat.objects.filter(state=NodeState.ONLINE, expires_at__gt=now, published_at__gte=now - lapse)
    if role is not None:
        rows = rows.filter(role=role)
    if holder is not None:
        rows = rows.filter(holder=holder)
    latest: dict[str, LiveNode] = {}
    for row in rows.order_by("published_at"):
        latest[row.hotkey] = LiveNode(
            hotkey=row.hotkey,
            role=row.role,
            state=row.state,
            version=row.version,
            addresses=list(row.addresses),
            dht_address=row.dht_address,
            manifest_digest=row.manifest_digest,
            rtts_ms=dict(row.rtts_ms),
            last_heartbeat_at=row.published_at,
            expires_at=row.expires_at,
        )
    return sorted(latest.values(), key=lambda n: n.hotkey)


def dht_live_hotkeys(*, role: Role) -> set[str]:
    return {n.hotkey for n in dht_live_nodes(role=role)}


def dht_stored_records(*, holder: str, now: float) -> list[Record]:
    """The unexpired records a node held when it stopped (rows that no longer parse are skipped)."""
    out = []
    for wire in StoredRecord.objects.filter(holder=holder, expires__gt=now).values_list("wire", flat=True):
        try:
            out.append(Record.model_validate_json(wire))
        except ValidationError as exc:  # stored by an older version: the network still has it
            logger.warning("dht: skipping a stored record that no longer parses: %s", exc.errors()[:1])
    return out


def dht_records_of(*, holder: str, key: str, now: float) -> list[Record]:
    """The unexpired records of `key` this node keeps (held as a replica, or mirrored by a fetch)."""
    return [r for r in dht_stored_records(holder=holder, now=now) if r.key == key]


def dht_known_peers(*, holder: str) -> list[Peer]:
    return [
        Peer.make(p.hotkey, p.host, p.port, p.last_seen_at.timestamp())
        for p in KnownPeer.objects.filter(holder=holder).order_by("-last_seen_at")
    ]


def dht_routable_miners(hotkeys: Iterable[str]) -> set[str]:
    """The miners among `hotkeys` (e.g. chain-registered ones) a validator may route to: with
    DHT_ROUTE_REQUIRE_HEARTBEAT, only those whose heartbeat is fresh and ONLINE; otherwise all."""
    wanted = set(hotkeys)
    if not settings.DHT_ROUTE_REQUIRE_HEARTBEAT:
        return wanted
    return wanted & {n.hotkey for n in dht_live_nodes(role=Role.MINER)}


def dht_miner_addresses() -> dict[str, str]:
    """Serving address of every live miner, as its heartbeat announces it: discovery through the
    DHT for miners whose chain entry has no (or a stale) address."""
    return {n.hotkey: n.addresses[0] for n in dht_live_nodes(role=Role.MINER) if n.addresses}


def dht_own_commit_get(*, holder: str, epoch: int) -> OwnScoreCommit | None:
    """What this validator committed for `epoch` (with its secret salt), if anything."""
    return OwnScoreCommit.objects.filter(holder=holder, epoch=epoch).first()


def dht_agreements_with(*, holder: str, validator: str, epochs: int) -> dict[str, list[tuple[int, float]]]:
    """How closely `validator`'s revealed scores agreed with each other validator's (1.0 = the same
    weights), in the last `epochs` epochs `holder` checked: {other validator: [(epoch, agreement)]},
    oldest epoch first."""
    pairs = ValidatorAgreement.objects.filter(Q(validator_a=validator) | Q(validator_b=validator), holder=holder)
    recent = pairs.order_by("-epoch").values_list("epoch", flat=True).distinct()[:epochs]
    out: dict[str, list[tuple[int, float]]] = {}
    for row in pairs.filter(epoch__in=list(recent)).order_by("epoch", "id"):
        other = row.validator_b if row.validator_a == validator else row.validator_a
        out.setdefault(other, []).append((row.epoch, row.agreement))
    return dict(sorted(out.items()))


def dht_routing_table_size(*, holder: str) -> int:
    """Peers in the routing table of the DHT node `holder`, as its process last snapshotted it
    (every 60 s, `DhtNode.maintenance_start`, and at shutdown): the DHT runs in its own process."""
    return KnownPeer.objects.filter(holder=holder).count()
