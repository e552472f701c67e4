"""The client half of RPC: send a signed request, match the signed reply to it.

A reply is accepted only if it answers a request we still wait for (the id is the request's fresh
nonce, so replayed or unsolicited replies match nothing), comes from the address we sent to, is
addressed to us, is from the hotkey we expected (when we knew it) and carries a valid signature."""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dht.engine.codec import CodecError
from dht.engine.transport import Addr
from dht.engine.wire import Envelope, Op, envelope_fields, envelope_seal
from protocol.keys import Hotkey

LATE = "late response"


class RpcError(Exception):
    pass


class RpcTimeout(RpcError):
    pass


@dataclass
class _Pending:
    future: "asyncio.Future[Envelope]"
    addr: Addr
    op: Op
    expect: str | None


class RpcClient:
    def __init__(
        self, *, hotkey: Hotkey, send: Callable[[bytes, Addr], None], max_bytes: int, max_skew_s: float
    ) -> None:
        self._hotkey = hotkey
        self._send = send
        self._max_bytes = max_bytes
        self._max_skew_s = max_skew_s
        self._pending: dict[str, _Pending] = {}
        # Ids of calls that ended (timed out, or were cancelled when a lookup finished early): a
        # reply to them is expected traffic, not an attack.
        self._finished: OrderedDict[str, None] = OrderedDict()

    async def call(self, addr: Addr, op: Op, body: dict[str, Any], *, to: str | None, timeout_s: float) -> Envelope:
        request = envelope_fields(hotkey=self._hotkey, kind="req", op=op, to=to, body=body)
        try:
            data = envelope_seal(hotkey=self._hotkey, fields=request, max_bytes=self._max_bytes)
        except CodecError as exc:
            raise RpcError(f"{op} request not sent: {exc}") from exc
        future: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        self._pending[request["id"]] = _Pending(future=future, addr=addr, op=op, expect=to)
        try:
            self._send(data, addr)
            return await asyncio.wait_for(future, timeout_s)
        except TimeoutError as exc:
            raise RpcTimeout(f"{op} to {addr[0]}:{addr[1]} timed out") from exc
        finally:
            self._pending.pop(request["id"], None)
            self._finished[request["id"]] = None
            if len(self._finished) > 4096:
                self._finished.popitem(last=False)

    def on_response(self, envelope: Envelope, addr: Addr) -> str | None:
        """Resolve the matching call; returns a drop reason when the reply is not acceptable."""
        pending = self._pending.get(envelope.id)
        if pending is not None and pending.future.done():
            return LATE  # the call was cancelled or timed out an instant ago
        if pending is None:
            return LATE if envelope.id in self._finished else "unsolicited response"
        if pending.addr != addr:
            return "response from the wrong address"
        if envelope.to != self._hotkey.ss58 or envelope.op != pending.op:
            return "response not addressed to this request"
        if pending.expect is not None and envelope.sender != pending.expect:
            return "response from an unexpected hotkey"
        if abs(time.time() - envelope.ts) > self._max_skew_s:
            return "response timestamp out of window"
        if not envelope.signature_ok():
            return "response with a bad signature"
        pending.future.set_result(envelope)
        return None

    def __len__(self) -> int:
        return len(self._pending)
