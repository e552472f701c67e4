"""The inbound pipeline: every datagram passes cheap checks first (size, per-address rate, JSON,
envelope shape; then for requests the recipient, clock window and replay) and only then a
signature check; every failure is dropped with a counted, logged reason and costs bounded work.
Replies go to the RPC client; requests are served as background tasks, a bounded number at once."""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from dht.engine.codec import CodecError
from dht.engine.config import DhtConfig
from dht.engine.contacts import Contacts
from dht.engine.droplog import DropLog
from dht.engine.ids import id_from_hex, key_id
from dht.engine.intake import RecordIntake
from dht.engine.loops import TaskSet
from dht.engine.ratelimit import TokenBuckets
from dht.engine.record_store import RecordStore
from dht.engine.replay import ReplayCache
from dht.engine.routing import RoutingTable
from dht.engine.rpc import LATE, RpcClient
from dht.engine.transport import Addr
from dht.engine.wire import (
    REQUEST_BODIES,
    Envelope,
    ErrorReply,
    FindNodeBody,
    FindValueBody,
    StoreBody,
    envelope_fields,
    envelope_parse,
    envelope_seal,
)
from protocol.keys import Hotkey

logger = logging.getLogger(__name__)
REPLY_OVERHEAD_BYTES = 6_000  # envelope + up to 64 peer refs, kept free of a value page


class RequestServer:
    def __init__(
        self,
        *,
        hotkey: Hotkey,
        config: DhtConfig,
        clock: Callable[[], float],
        send: Callable[[bytes, Addr], None],
        rpc: RpcClient,
        contacts: Contacts,
        routing: RoutingTable,
        store: RecordStore,
        intake: RecordIntake,
        tasks: TaskSet,
        drops: DropLog,
        stats: Counter[str],
    ) -> None:
        self._hotkey = hotkey
        self._config = config
        self._clock = clock
        self._send = send
        self._rpc = rpc
        self._contacts = contacts
        self._routing = routing
        self._store = store
        self._intake = intake
        self._tasks = tasks
        self._drops = drops
        self._stats = stats
        self._replay = ReplayCache(window_s=config.max_clock_skew_s, max_entries=config.replay_cache_size)
        self._peer_rate = TokenBuckets(rate_per_s=config.peer_requests_per_s, burst=config.peer_request_burst)
        self._inflight = 0

    def on_datagram(self, data: bytes, addr: Addr) -> None:
        if len(data) > self._config.max_datagram_bytes:
            self._drops.drop("oversized datagram", addr)
            return
        if not self._peer_rate.allow(f"{addr[0]}:{addr[1]}"):
            self._drops.drop("peer over request rate", addr)
            return
        try:
            envelope = envelope_parse(data, max_bytes=self._config.max_datagram_bytes)
        except (CodecError, ValidationError) as exc:
            self._drops.drop("malformed datagram", f"{addr} ({str(exc).splitlines()[0][:80]})")
            return
        if envelope.kind == "res":
            reason = self._rpc.on_response(envelope, addr)
            if reason == LATE:
                self._stats[reason] += 1
            elif reason is not None:
                self._drops.drop(reason, addr)
            return
        if self._inflight >= self._config.max_inflight_requests:
            self._drops.drop("overloaded", addr)
            return
        self._inflight += 1
        task = self._tasks.spawn(self._serve(envelope, addr))
        task.add_done_callback(self._request_done)

    def _request_done(self, _: "asyncio.Task[Any]") -> None:
        self._inflight -= 1

    def _request_problem(self, envelope: Envelope) -> str | None:
        if envelope.to != self._hotkey.ss58 and not (envelope.to is None and envelope.op == "ping"):
            return "request addressed to another node"
        if abs(self._clock() - envelope.ts) > self._config.max_clock_skew_s:
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
            self._drops.drop(problem, addr)
            return
        if not await self._contacts.admitted(envelope.sender, addr):
            self._drops.drop("request from an unregistered hotkey", addr)
            return
        self._contacts.learn(envelope.sender, addr)
        try:
            body = REQUEST_BODIES[envelope.op].model_validate(envelope.body)
            reply = await self._handle(envelope, body)
        except ValidationError:
            self._drops.drop(f"malformed {envelope.op} body", addr)
            reply = ErrorReply(error="malformed body").model_dump()
        response = envelope_fields(
            hotkey=self._hotkey, kind="res", op=envelope.op, to=envelope.sender, body=reply, rid=envelope.id
        )
        try:
            self._send(
                envelope_seal(hotkey=self._hotkey, fields=response, max_bytes=self._config.max_datagram_bytes), addr
            )
        except CodecError:
            logger.error("dht: reply to %s over the datagram limit", envelope.op)

    async def _handle(self, envelope: Envelope, body: Any) -> dict[str, Any]:
        if isinstance(body, FindNodeBody):
            return {"peers": self._peer_refs(id_from_hex(body.target), exclude=envelope.sender)}
        if isinstance(body, FindValueBody):
            budget = self._config.max_datagram_bytes - REPLY_OVERHEAD_BYTES
            page, more = self._store.page(body.key, after=body.after, budget_bytes=budget)
            now = self._clock()
            peers = self._peer_refs(key_id(body.key), exclude=envelope.sender) if body.after is None else []
            return {"peers": peers, "records": [wire for r, wire in page if r.expires > now], "more": more}
        if isinstance(body, StoreBody):
            # Each record may cost a signature check: charge the sender's request budget per record.
            if len(body.records) > self._config.max_records_per_store or not self._peer_rate.allow(
                envelope.sender, cost=len(body.records)
            ):
                self._drops.drop("store batch over the sender's budget", envelope.sender)
                return {"error": "store batch over budget"}
            results = [await self._intake.accept(r, source=envelope.sender) for r in body.records]
            return {"results": results}
        return {}

    def _peer_refs(self, target: int, *, exclude: str) -> list[dict[str, Any]]:
        peers = self._routing.closest(target, self._config.k, exclude=frozenset({exclude}))
        return [{"hotkey": p.hotkey, "host": p.host, "port": p.port} for p in peers]
