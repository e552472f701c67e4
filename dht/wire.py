"""RPC datagrams: one signed JSON envelope per UDP datagram.

`{"v":1, "kind":"req"|"res", "op", "id", "ts", "sender", "crypto", "to", "body", "sig"}`. The
signature covers every other field behind a domain prefix. `id` is a fresh 128-bit nonce per request
(the receiver remembers it for the skew window: replays are dropped); a response repeats it, is
addressed to the requester and must come from the address the request went to. `to` is the
recipient's hotkey; it may be null only for a `ping`, the first contact with a bootnode whose hotkey
we do not know yet."""

import secrets
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from dht.codec import canonical
from dht.crypto import signature_ok as _signature_ok
from dht.records import Record
from protocol.keys import Hotkey

RPC_DOMAIN = b"meshwork-dht-rpc:v1:"
Op = Literal["ping", "find_node", "find_value", "store"]
SS58 = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[1-9A-HJ-NP-Za-km-z]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Envelope(Strict):
    v: Literal[1]
    kind: Literal["req", "res"]
    op: Op
    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    ts: float
    sender: SS58
    crypto: Literal["sr25519", "ed25519"]
    to: SS58 | None
    body: dict[str, Any]
    sig: str = Field(pattern=r"^0x[0-9a-f]{2,256}$")

    def signed_bytes(self) -> bytes:
        return RPC_DOMAIN + canonical(self.model_dump(exclude={"sig"}))

    def signature_ok(self) -> bool:
        return _signature_ok(ss58=self.sender, crypto=self.crypto, data=self.signed_bytes(), signature=self.sig)


class PeerRef(Strict):
    hotkey: SS58
    host: str = Field(max_length=45)
    port: int = Field(ge=1, le=65535)


class PingBody(Strict):
    pass


class FindNodeBody(Strict):
    target: str = Field(pattern=r"^[0-9a-f]{64}$")


class FindValueBody(Strict):
    key: str = Field(max_length=128)
    after: str | None = Field(default=None, max_length=64)


class StoreBody(Strict):
    records: list[Record] = Field(min_length=1, max_length=64)


class PeersReply(Strict):
    peers: list[PeerRef] = Field(max_length=64)


class ValueReply(Strict):
    peers: list[PeerRef] = Field(max_length=64)
    records: list[Record] = Field(max_length=4096)
    more: bool = False


class StoreReply(Strict):
    results: list[str] = Field(max_length=64)


class ErrorReply(Strict):
    error: str = Field(max_length=200)


REQUEST_BODIES: dict[str, type[Strict]] = {
    "ping": PingBody,
    "find_node": FindNodeBody,
    "find_value": FindValueBody,
    "store": StoreBody,
}
REPLY_BODIES: dict[str, type[Strict]] = {
    "ping": PingBody,
    "find_node": PeersReply,
    "find_value": ValueReply,
    "store": StoreReply,
}
ENVELOPE = TypeAdapter(Envelope)


def envelope_build(
    *, hotkey: Hotkey, kind: Literal["req", "res"], op: Op, to: str | None, body: dict[str, Any], rid: str | None = None
) -> dict[str, Any]:
    """A signed envelope as its wire dict (built directly: this runs for every datagram we send)."""
    fields: dict[str, Any] = {
        "v": 1,
        "kind": kind,
        "op": op,
        "id": rid or secrets.token_hex(16),
        "ts": time.time(),
        "sender": hotkey.ss58,
        "crypto": hotkey.crypto,
        "to": to,
        "body": body,
    }
    fields["sig"] = hotkey.sign(RPC_DOMAIN + canonical(fields))
    return fields
