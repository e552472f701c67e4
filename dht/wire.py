"""RPC datagrams: one signed envelope per UDP datagram, `<signature hex>\n<canonical JSON>`.

The JSON is `{"v":1, "kind":"req"|"res", "op", "id", "ts", "sender", "crypto", "to", "body"}` and
the signature covers exactly those bytes behind a domain prefix, so a receiver verifies what it
received without re-encoding it. `id` is a fresh 128-bit nonce per request
(the receiver remembers it for the skew window: replays are dropped); a response repeats it, is
addressed to the requester and must come from the address the request went to. `to` is the
recipient's hotkey; it may be null only for a `ping`, the first contact with a bootnode whose hotkey
we do not know yet."""

import secrets
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter

from dht.codec import CodecError, canonical, decode
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
    _payload: bytes = PrivateAttr(default=b"")

    def signed_bytes(self) -> bytes:
        return RPC_DOMAIN + self._payload

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


def envelope_fields(
    *, hotkey: Hotkey, kind: Literal["req", "res"], op: Op, to: str | None, body: dict[str, Any], rid: str | None = None
) -> dict[str, Any]:
    return {
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


def envelope_seal(*, hotkey: Hotkey, fields: dict[str, Any], max_bytes: int) -> bytes:
    """The datagram for `fields`, signed by `hotkey`; CodecError if it would exceed `max_bytes`."""
    payload = canonical_or_error(fields)
    data = hotkey.sign(RPC_DOMAIN + payload).encode() + b"\n" + payload
    if len(data) > max_bytes:
        raise CodecError(f"{len(data)} bytes exceeds the {max_bytes}-byte limit")
    return data


def envelope_parse(data: bytes, *, max_bytes: int) -> Envelope:
    """Parse (not verify) a datagram; CodecError or ValidationError on anything malformed."""
    head, sep, payload = data.partition(b"\n")
    if not sep or len(head) > 258:
        raise CodecError("no signature line")
    raw = decode(payload, max_bytes=max_bytes)
    if not isinstance(raw, dict) or "sig" in raw:
        raise CodecError("envelope is not a JSON object")
    raw["sig"] = head.decode("ascii", errors="replace")
    envelope = ENVELOPE.validate_python(raw)
    envelope._payload = payload
    return envelope


def canonical_or_error(value: Any) -> bytes:
    try:
        return canonical(value)
    except ValueError as exc:
        raise CodecError(str(exc)) from exc
