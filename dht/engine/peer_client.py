"""Calling peers: one RPC with its reply checked (the sender admitted, the body well-formed), the
sender learned as a contact, and failures counted against the peer's table entry."""

from collections import Counter
from typing import Any

from pydantic import ValidationError

from dht.engine.config import DhtConfig
from dht.engine.contacts import Contacts
from dht.engine.droplog import DropLog
from dht.engine.routing import RoutingTable
from dht.engine.rpc import RpcClient, RpcError
from dht.engine.transport import Addr
from dht.engine.wire import REPLY_BODIES, Op


class PeerClient:
    def __init__(
        self,
        *,
        config: DhtConfig,
        rpc: RpcClient,
        routing: RoutingTable,
        contacts: Contacts,
        drops: DropLog,
        stats: Counter[str],
    ) -> None:
        self._config = config
        self._rpc = rpc
        self._routing = routing
        self._contacts = contacts
        self._drops = drops
        self._stats = stats

    async def call(self, addr: Addr, op: Op, body: dict[str, Any], *, to: str | None) -> Any:
        """One RPC; returns the parsed reply body. Failures count against the peer's table entry."""
        try:
            reply = await self._rpc.call(addr, op, body, to=to, timeout_s=self._config.rpc_timeout_s)
        except RpcError:
            self._stats["rpc failures"] += 1
            if to is not None:
                self._routing.failed(to)
            raise
        if not await self._contacts.admitted(reply.sender, addr):
            self._drops.drop("reply from an unregistered hotkey", addr)
            raise RpcError("unregistered peer")
        self._contacts.learn(reply.sender, addr)
        if "error" in reply.body:
            raise RpcError(f"peer refused: {str(reply.body.get('error'))[:200]}")
        try:
            return REPLY_BODIES[op].model_validate(reply.body)
        except ValidationError as exc:
            self._drops.drop(f"malformed {op} reply", addr)
            raise RpcError("malformed reply") from exc

    async def ping(self, addr: Addr, *, hotkey: str | None = None) -> str | None:
        """Ping an address; returns the hotkey that answered, or None."""
        try:
            await self.call(addr, "ping", {}, to=hotkey)
        except RpcError:
            return None
        peer = next((p for p in self._routing.peers() if p.addr == addr), None)
        return peer.hotkey if peer else hotkey
