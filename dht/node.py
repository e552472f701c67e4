"""DhtNode: one Kademlia node on one UDP socket (k = 20, α = 3 by default).

Inbound datagrams pass cheap checks first (size, per-address rate, JSON, envelope shape, clock
window, replay) and only then a signature check; every failure is dropped with a counted, logged
reason and costs bounded work. Records are judged by the validator chain (signature → ownership
and the owner's stake → schema) both when a peer asks us to store them and when a lookup returns
them. See dht/transport.py for why UDP."""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from pydantic import JsonValue, ValidationError

from dht import ops
from dht.codec import CodecError
from dht.conf import DhtConfig
from dht.droplog import DropLog
from dht.ids import id_from_hex, key_id, node_id
from dht.ratelimit import TokenBuckets
from dht.records import Record
from dht.replay import ReplayCache
from dht.routing import Peer, RoutingTable
from dht.rpc import LATE, RpcClient, RpcError
from dht.stake import StakeSource
from dht.storage import PutOutcome, RecordStore
from dht.transport import Addr, AddressPolicy, LinkFilter, UdpEndpoint
from dht.validation import Rejected, ValidatorChain
from dht.wire import (
    REPLY_BODIES,
    REQUEST_BODIES,
    Envelope,
    ErrorReply,
    FindNodeBody,
    FindValueBody,
    Op,
    StoreBody,
    envelope_fields,
    envelope_parse,
    envelope_seal,
)
from protocol.keys import Hotkey

logger = logging.getLogger(__name__)
REPLY_OVERHEAD_BYTES = 6_000  # envelope + up to 64 peer refs, kept free of a value page


class DhtNode:
    def __init__(
        self,
        *,
        hotkey: Hotkey,
        config: DhtConfig,
        stake: StakeSource,
        validators: ValidatorChain,
        link_filter: LinkFilter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hotkey = hotkey
        self.id = node_id(hotkey.ss58)
        self.config = config
        self.stake = stake
        self.validators = validators
        self.link_filter = link_filter
        self.clock = clock
        self.routing = RoutingTable(own_id=self.id, k=config.k, failures_before_evict=config.failures_before_evict)
        self.store = RecordStore(max_records=config.max_records, max_subkeys_per_key=config.max_subkeys_per_key)
        self.drops = DropLog(node=hotkey.ss58)
        self.stats: Counter[str] = Counter()
        self.policy = AddressPolicy(config.allowed_networks)
        self.bootnodes: set[Addr] = set()
        self.addr: Addr = ("", 0)
        self._endpoint = UdpEndpoint(self._on_datagram)
        self._rpc = RpcClient(
            hotkey=hotkey, send=self._send, max_bytes=config.max_datagram_bytes, max_skew_s=config.max_clock_skew_s
        )
        self._replay = ReplayCache(window_s=config.max_clock_skew_s, max_entries=config.replay_cache_size)
        self._peer_rate = TokenBuckets(rate_per_s=config.peer_requests_per_s, burst=config.peer_request_burst)
        self._owner_rate = TokenBuckets(rate_per_s=config.owner_writes_per_s, burst=config.owner_write_burst)
        self._inflight = 0
        self._evicting: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.running = False

    # lifecycle -------------------------------------------------------------------------------
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Addr:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self._endpoint, local_addr=(host, port))
        self._endpoint.connection_made(transport)  # the loop calls it later; we need the address now
        self.addr = self._endpoint.sockname
        self.running = True
        return self.addr

    async def stop(self) -> None:
        self.running = False
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._endpoint.close()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> "asyncio.Task[Any]":
        """Run a background task the node owns (cancelled on stop, never garbage-collected early)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # outbound --------------------------------------------------------------------------------
    def _send(self, data: bytes, addr: Addr) -> None:
        if not self.running or not self.policy.allowed(*addr):
            return
        if self.link_filter is not None and not self.link_filter(self.addr, addr):
            return  # a simulated partition or loss: the datagram vanishes
        self._endpoint.send(data, addr)

    async def call(self, addr: Addr, op: Op, body: dict[str, Any], *, to: str | None) -> Any:
        """One RPC; returns the parsed reply body. Failures count against the peer's table entry."""
        try:
            reply = await self._rpc.call(addr, op, body, to=to, timeout_s=self.config.rpc_timeout_s)
        except RpcError:
            self.stats["rpc failures"] += 1
            if to is not None:
                self.routing.failed(to)
            raise
        if not await self._admitted(reply.sender, addr):
            self.drops.drop("reply from an unregistered hotkey", addr)
            raise RpcError("unregistered peer")
        self._learn(reply.sender, addr)
        if "error" in reply.body:
            raise RpcError(f"peer refused: {str(reply.body.get('error'))[:200]}")
        try:
            return REPLY_BODIES[op].model_validate(reply.body)
        except ValidationError as exc:
            self.drops.drop(f"malformed {op} reply", addr)
            raise RpcError("malformed reply") from exc

    async def ping(self, addr: Addr, *, hotkey: str | None = None) -> str | None:
        """Ping an address; returns the hotkey that answered, or None."""
        try:
            await self.call(addr, "ping", {}, to=hotkey)
        except RpcError:
            return None
        peer = next((p for p in self.routing.peers() if p.addr == addr), None)
        return peer.hotkey if peer else hotkey

    # inbound ---------------------------------------------------------------------------------
    def _on_datagram(self, data: bytes, addr: Addr) -> None:
        if not self.running:
            return
        if len(data) > self.config.max_datagram_bytes:
            self.drops.drop("oversized datagram", addr)
            return
        if not self._peer_rate.allow(f"{addr[0]}:{addr[1]}"):
            self.drops.drop("peer over request rate", addr)
            return
        try:
            envelope = envelope_parse(data, max_bytes=self.config.max_datagram_bytes)
        except (CodecError, ValidationError) as exc:
            self.drops.drop("malformed datagram", f"{addr} ({str(exc).splitlines()[0][:80]})")
            return
        if envelope.kind == "res":
            reason = self._rpc.on_response(envelope, addr)
            if reason == LATE:
                self.stats[reason] += 1
            elif reason is not None:
                self.drops.drop(reason, addr)
            return
        if self._inflight >= self.config.max_inflight_requests:
            self.drops.drop("overloaded", addr)
            return
        self._inflight += 1
        task = self.spawn(self._serve(envelope, addr))
        task.add_done_callback(self._request_done)

    def _request_done(self, _: "asyncio.Task[Any]") -> None:
        self._inflight -= 1

    def _request_problem(self, envelope: Envelope) -> str | None:
        if envelope.to != self.hotkey.ss58 and not (envelope.to is None and envelope.op == "ping"):
            return "request addressed to another node"
        if abs(self.clock() - envelope.ts) > self.config.max_clock_skew_s:
            return "request timestamp out of window"
        nonce = f"{envelope.sender}:{envelope.id}"
        if self._replay.seen(nonce):
            return "replayed request"
        if not envelope.signature_ok():
            return "request with a bad signature"
        if not self._replay.remember(nonce):
            return "replay cache full"
        return None

    async def _serve(self, envelope: Envelope, addr: Addr) -> None:
        problem = self._request_problem(envelope)
        if problem is not None:
            self.drops.drop(problem, addr)
            return
        if not await self._admitted(envelope.sender, addr):
            self.drops.drop("request from an unregistered hotkey", addr)
            return
        self._learn(envelope.sender, addr)
        try:
            body = REQUEST_BODIES[envelope.op].model_validate(envelope.body)
            reply = await self._handle(envelope, body)
        except ValidationError:
            self.drops.drop(f"malformed {envelope.op} body", addr)
            reply = ErrorReply(error="malformed body").model_dump()
        response = envelope_fields(
            hotkey=self.hotkey, kind="res", op=envelope.op, to=envelope.sender, body=reply, rid=envelope.id
        )
        try:
            self._send(
                envelope_seal(hotkey=self.hotkey, fields=response, max_bytes=self.config.max_datagram_bytes), addr
            )
        except CodecError:
            logger.error("dht: reply to %s over the datagram limit", envelope.op)

    async def _handle(self, envelope: Envelope, body: Any) -> dict[str, Any]:
        if isinstance(body, FindNodeBody):
            return {"peers": self._peer_refs(id_from_hex(body.target), exclude=envelope.sender)}
        if isinstance(body, FindValueBody):
            budget = self.config.max_datagram_bytes - REPLY_OVERHEAD_BYTES
            page, more = self.store.page(body.key, after=body.after, budget_bytes=budget)
            now = self.clock()
            peers = self._peer_refs(key_id(body.key), exclude=envelope.sender) if body.after is None else []
            return {"peers": peers, "records": [wire for r, wire in page if r.expires > now], "more": more}
        if isinstance(body, StoreBody):
            # Each record may cost a signature check: charge the sender's request budget per record.
            if len(body.records) > self.config.max_records_per_store or not self._peer_rate.allow(
                envelope.sender, cost=len(body.records)
            ):
                self.drops.drop("store batch over the sender's budget", envelope.sender)
                return {"error": "store batch over budget"}
            results = [await self.accept_record(r, source=envelope.sender) for r in body.records]
            return {"results": results}
        return {}

    def _peer_refs(self, target: int, *, exclude: str) -> list[dict[str, Any]]:
        peers = self.routing.closest(target, self.config.k, exclude=frozenset({exclude}))
        return [{"hotkey": p.hotkey, "host": p.host, "port": p.port} for p in peers]

    # membership ------------------------------------------------------------------------------
    async def _admitted(self, hotkey: str, addr: Addr) -> bool:
        if not self.config.require_registered_peers or addr in self.bootnodes:
            return True
        return await self.stake.lookup(hotkey) is not None

    def _learn(self, hotkey: str, addr: Addr) -> None:
        lrs = self.routing.seen(hotkey, *addr)
        if lrs is not None and lrs.hotkey not in self._evicting and len(self._evicting) < 64:
            self._evicting.add(lrs.hotkey)
            self.spawn(self._check_lrs(lrs))

    async def _check_lrs(self, lrs: Peer) -> None:
        """The bucket is full: keep the least-recently-seen peer if it still answers."""
        try:
            await self._rpc.call(lrs.addr, "ping", {}, to=lrs.hotkey, timeout_s=self.config.rpc_timeout_s)
            self.routing.seen(lrs.hotkey, *lrs.addr)
        except RpcError:
            self.routing.remove(lrs.hotkey)  # promotes the newest waiting peer
        finally:
            self._evicting.discard(lrs.hotkey)

    # the network (dht/ops.py) ------------------------------------------------------------------
    async def bootstrap(self, bootnodes: list[Addr], known: list[Peer] | None = None) -> int:
        return await ops.dht_bootstrap(self, bootnodes=bootnodes, known=known)

    async def get(self, key: str, *, quorum: int | None = None) -> dict[str, Record]:
        return (await ops.dht_get(self, key, quorum=quorum)).records

    async def put(self, key: str, value: JsonValue, *, ttl_s: float) -> tuple[Record, int]:
        return await ops.dht_put(self, key, value, ttl_s=ttl_s)

    async def store_records(self, records: list[Record]) -> int:
        return await ops.dht_store(self, records)

    async def replicate(self) -> int:
        return await ops.dht_replicate(self)

    # records ---------------------------------------------------------------------------------
    async def check_record(self, record: Record) -> str | None:
        """Run the validator chain; returns the rejection reason or None."""
        try:
            await self.validators.validate(record, self.clock())
        except Rejected as exc:
            return exc.reason
        return None

    async def accept_record(self, record: Record, *, source: object) -> str:
        """Validate and store a record a peer (or we) asked us to hold; returns the outcome."""
        early = self.store.precheck(record)
        if early in (PutOutcome.DUPLICATE, PutOutcome.STALE):
            return early.value
        if early is PutOutcome.FULL:
            self.drops.drop("store full", source)
            return early.value
        reason = await self.check_record(record)
        if reason is not None:
            self.drops.drop(f"record rejected: {reason.split(':')[0]}", source)
            return f"rejected: {reason}"
        # Charged only for a valid write that changes state: replicas re-sending a record we already
        # hold are free, and a forger cannot spend its victim's budget.
        if not self._owner_rate.allow(record.owner):
            self.drops.drop("owner over write rate", source)
            return "rejected: owner over write rate"
        return self.store.put(record).value
