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
from typing import Any, Literal

from pydantic import Field, PrivateAttr, TypeAdapter

from dht.engine.codec import CodecError, canonical_or_error, decode
from dht.engine.records import Record
from protocol.keys import Hotkey, verify_signature
from protocol.types import SS58Address, StrictModel

RPC_DOMAIN = b"meshwork-dht-rpc:v1:"
Op = Literal["ping", "find_node", "find_value", "store"]
# A STORE batch leaves this much of a datagram for the envelope; each record costs its value plus
# this much for its other fields.
STORE_ENVELOPE_BYTES = 2_000
STORE_RECORD_OVERHEAD_BYTES = 600


class Envelope(StrictModel):
    v: Literal[1]
    kind: Literal["req", "res"]
    op: Op
    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    ts: float
    sender: SS58Address
    crypto: Literal["sr25519", "ed25519"]
    to: SS58Address | None
    body: dict[str, Any]
    sig: str = Field(pattern=r"^0x[0-9a-f]{2,256}$")
    _payload: bytes = PrivateAttr(default=b"")

    def signed_bytes(self) -> bytes:
        return RPC_DOMAIN + self._payload

    def signature_ok(self) -> bool:
        return verify_signature(ss58=self.sender, crypto=self.crypto, data=self.signed_bytes(), signature=self.sig)


class PeerRef(StrictModel):
    hotkey: SS58Address
    host: str = Field(max_length=45)
    port: int = Field(ge=1, le=65535)


class PingBody(StrictModel):
    pass


class FindNodeBody(StrictModel):
    target: str = Field(pattern=r"^[0-9a-f]{64}$")


class FindValueBody(StrictModel):
    key: str = Field(max_length=128)
    after: str | None = Field(default=None, max_length=64)


class StoreBody(StrictModel):
    records: list[Record] = Field(min_length=1, max_length=64)


class PeersReply(StrictModel):
    peers: list[PeerRef] = Field(max_length=64)


class ValueReply(StrictModel):
    peers: list[PeerRef] = Field(max_length=64)
    records: list[Record] = Field(max_length=4096)
    more: bool = False


class StoreReply(StrictModel):
    results: list[str] = Field(max_length=64)


class ErrorReply(StrictModel):
    error: str = Field(max_length=200)


REQUEST_BODIES: dict[str, type[StrictModel]] = {
    "ping": PingBody,
    "find_node": FindNodeBody,
    "find_value": FindValueBody,
    "store": StoreBody,
}
REPLY_BODIES: dict[str, type[StrictModel]] = {
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


def store_batches(records: list[Record], *, max_records: int, max_datagram_bytes: int) -> list[list[Record]]:
    """Split records into STORE batches that each fit one datagram (and the per-request cap)."""
    budget = max_datagram_bytes - STORE_ENVELOPE_BYTES
    batches: list[list[Record]] = []
    batch: list[Record] = []
    size = 0
    for record in records:
        wire_size = record.value_size() + STORE_RECORD_OVERHEAD_BYTES
        if batch and (len(batch) >= max_records or size + wire_size > budget):
            batches.append(batch)
            batch, size = [], 0
        batch.append(record)
        size += wire_size
    if batch:
        batches.append(batch)
    return batches
