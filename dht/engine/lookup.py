"""Iterative FIND_NODE / FIND_VALUE with α requests in flight.

A request slower than the soft timeout stops counting against α, so the lookup moves on to other
candidates instead of idling behind a dead peer (30% churn); a FIND_VALUE lookup ends as soon as
`quorum` peers returned valid records, so dead peers rarely cost a hard timeout on reads. Every
returned record goes through the validator chain before it is used. `hops` is the depth of the
answer in the lookup tree: peers from our own table are hop 1, peers they name are hop 2, and so on."""

import asyncio
import enum
from dataclasses import dataclass, field
from typing import Any

from dht.engine.config import DhtConfig
from dht.engine.droplog import DropLog
from dht.engine.intake import RecordIntake, rejection_class
from dht.engine.peer_client import PeerClient
from dht.engine.records import Record
from dht.engine.routing import Peer, RoutingTable
from dht.engine.rpc import RpcError
from dht.engine.transport import AddressPolicy
from dht.engine.wire import PeersReply, ValueReply


class CandidateState(enum.Enum):
    NEW = "new"
    INFLIGHT = "inflight"
    OK = "ok"
    FAILED = "failed"


@dataclass
class _Candidate:
    peer: Peer
    depth: int
    state: CandidateState = CandidateState.NEW
    slow: bool = False


@dataclass
class LookupResult:
    closest: list[Peer]
    records: dict[str, Record] = field(default_factory=dict)
    holders: list[tuple[Peer, dict[str, Record]]] = field(default_factory=list)
    hops: int = 0
    rpcs: int = 0


def merge_latest(into: dict[str, Record], records: dict[str, Record]) -> None:
    for subkey, record in records.items():
        held = into.get(subkey)
        if held is None or record.supersedes(held):
            into[subkey] = record


def _prune(cands: dict[str, _Candidate], target: int, *, limit: int) -> None:
    """Bound the lookup's work (a hostile reply cannot flood it) by forgetting the farthest
    unqueried candidates, never the closest ones: dropping newcomers instead would strand the
    lookup short of the key when the closest nodes are learned late."""
    if len(cands) <= limit:
        return
    unqueried = sorted((c for c in cands.values() if c.state == CandidateState.NEW), key=lambda c: c.peer.id ^ target)
    for c in unqueried[max(0, limit - (len(cands) - len(unqueried))) :]:
        del cands[c.peer.hotkey]


class Lookups:
    """Iterative lookups from one node: its own hotkey (never a candidate), its table, its peer
    client, the address policy for named peers, and the intake that judges returned records."""

    def __init__(
        self,
        *,
        own: str,
        config: DhtConfig,
        routing: RoutingTable,
        peers: PeerClient,
        addresses: AddressPolicy,
        intake: RecordIntake,
        drops: DropLog,
    ) -> None:
        self._own = own
        self._config = config
        self._routing = routing
        self._peers = peers
        self._addresses = addresses
        self._intake = intake
        self._drops = drops

    async def find_value_pages(self, peer: Peer, key: str) -> tuple[ValueReply, list[Record]]:
        """FIND_VALUE on one peer, following `more` through the pages of a large key."""
        first: ValueReply = await self._peers.call(peer.addr, "find_value", {"key": key}, to=peer.hotkey)
        records, reply = list(first.records), first
        pages = 1
        while reply.more and reply.records and pages < self._config.max_pages:
            after = reply.records[-1].subkey
            reply = await self._peers.call(peer.addr, "find_value", {"key": key, "after": after}, to=peer.hotkey)
            records.extend(reply.records)
            pages += 1
        return first, records

    async def run(
        self, target: int, *, key: str | None = None, quorum: int = 1, budget: int | None = None
    ) -> LookupResult:
        """`budget` caps the RPCs sent (a cheap probe toward a region, used to seed far buckets)."""
        cfg = self._config
        cands: dict[str, _Candidate] = {p.hotkey: _Candidate(p, 1) for p in self._routing.closest(target, cfg.k)}
        tasks: dict[asyncio.Task[tuple[Any, list[Record]]], _Candidate] = {}
        result = LookupResult(closest=[])
        self._routing.touch(target)

        def dist(c: _Candidate) -> int:
            return c.peer.id ^ target

        try:
            while True:
                if key is not None and len(result.holders) >= quorum:
                    break
                # Slow requests free their α slot but still count for termination: a lookup ends only
                # when each of the k closest candidates answered or failed (timed out).
                live = sorted((c for c in cands.values() if c.state != CandidateState.FAILED), key=dist)[: cfg.k]
                fast = sum(1 for c in tasks.values() if not c.slow)
                for c in live:
                    if fast >= cfg.alpha or (budget is not None and result.rpcs >= budget):
                        break
                    if c.state == CandidateState.NEW:
                        c.state = CandidateState.INFLIGHT
                        tasks[asyncio.ensure_future(self._query(c, target, key))] = c
                        result.rpcs += 1
                        fast += 1
                if all(c.state == CandidateState.OK for c in live) or not tasks:
                    break
                done, _ = await asyncio.wait(tasks, timeout=cfg.soft_timeout_s, return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    for c in tasks.values():
                        c.slow = True
                    continue
                for task in done:
                    c = tasks.pop(task)
                    await self._absorb(task, c, cands, result, key, target)
        finally:
            for task in tasks:
                task.cancel()
        responded = sorted((c for c in cands.values() if c.state == CandidateState.OK), key=dist)[: cfg.k]
        result.closest = [c.peer for c in responded]
        if key is None:
            result.hops = max((c.depth for c in responded), default=0)
        return result

    async def _query(self, c: _Candidate, target: int, key: str | None) -> tuple[Any, list[Record]]:
        if key is None:
            reply: PeersReply = await self._peers.call(
                c.peer.addr, "find_node", {"target": f"{target:064x}"}, to=c.peer.hotkey
            )
            return reply, []
        return await self.find_value_pages(c.peer, key)

    async def _valid_records(self, key: str, records: list[Record], source: Peer) -> dict[str, Record]:
        best: dict[str, Record] = {}
        for record in records:
            if record.key != key:
                self._drops.drop("lookup reply with a record for another key", source.addr)
                continue
            held = best.get(record.subkey)
            if held is not None and not record.supersedes(held):
                continue
            reason = await self._intake.check(record)
            if reason is not None:
                self._drops.drop(f"lookup reply record rejected: {rejection_class(reason)}", source.addr)
                continue
            best[record.subkey] = record
        return best

    async def _absorb(
        self,
        task: "asyncio.Task[tuple[Any, list[Record]]]",
        c: _Candidate,
        cands: dict[str, _Candidate],
        result: LookupResult,
        key: str | None,
        target: int,
    ) -> None:
        try:
            reply, records = task.result()
        except (RpcError, asyncio.CancelledError):
            c.state = CandidateState.FAILED
            return
        c.state = CandidateState.OK
        for ref in reply.peers:
            if ref.hotkey == self._own or ref.hotkey in cands:
                continue
            if not self._addresses.allowed(ref.host, ref.port):
                self._drops.drop("peer reference with a disallowed address", c.peer.addr)
                continue
            cands[ref.hotkey] = _Candidate(Peer.make(ref.hotkey, ref.host, ref.port), c.depth + 1)
        _prune(cands, target, limit=8 * self._config.k)
        if key is not None and records:
            valid = await self._valid_records(key, records, c.peer)
            if valid:
                result.holders.append((c.peer, valid))
                merge_latest(result.records, valid)
                result.hops = min(result.hops or c.depth, c.depth)
