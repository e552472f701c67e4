"""Signed records: `(key, subkey, value, expires)` signed by the owner's hotkey.

The signature covers every field but itself, expiry included, behind a domain prefix so a record
signature can never be replayed as an RPC signature (or as anything else a hotkey signs)."""

import math
from typing import Any, Literal

from pydantic import Field, JsonValue, field_validator

from dht.engine.codec import canonical_or_error
from protocol.keys import Hotkey, verify_signature
from protocol.types import StrictModel

RECORD_DOMAIN = b"meshwork-dht-record:v1:"
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9:_.\-]{0,127}$"
SUBKEY_PATTERN = r"^[A-Za-z0-9:_.\-]{1,64}$"


class Record(StrictModel):
    key: str = Field(pattern=KEY_PATTERN)
    subkey: str = Field(pattern=SUBKEY_PATTERN)
    value: JsonValue
    expires: float
    owner: str = Field(min_length=1, max_length=64)
    crypto: Literal["sr25519", "ed25519"]
    sig: str = Field(pattern=r"^0x[0-9a-f]{2,256}$")

    @field_validator("expires")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value) or value <= 0:
            raise ValueError("expires must be a positive finite unix time")
        return value

    def signed_bytes(self) -> bytes:
        return _signed_bytes(self.key, self.subkey, self.value, self.expires, self.owner, self.crypto)

    def value_size(self) -> int:
        return len(canonical_or_error(self.value))

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def supersedes(self, other: "Record") -> bool:
        """Latest expiry wins; an exact tie is broken by signature so every replica agrees."""
        return (self.expires, self.sig) > (other.expires, other.sig)


def _signed_bytes(key: str, subkey: str, value: Any, expires: float, owner: str, crypto: str) -> bytes:
    body = {"crypto": crypto, "expires": expires, "key": key, "owner": owner, "subkey": subkey, "value": value}
    return RECORD_DOMAIN + canonical_or_error(body)


def record_sign(*, hotkey: Hotkey, key: str, value: JsonValue, expires: float, subkey: str | None = None) -> Record:
    """Build and sign a record; the subkey defaults to the owner, the slot each node owns per key."""
    subkey = subkey if subkey is not None else hotkey.ss58
    data = _signed_bytes(key, subkey, value, expires, hotkey.ss58, hotkey.crypto)
    return Record(
        key=key,
        subkey=subkey,
        value=value,
        expires=expires,
        owner=hotkey.ss58,
        crypto=hotkey.crypto,
        sig=hotkey.sign(data),
    )


def record_signature_ok(record: Record) -> bool:
    return verify_signature(ss58=record.owner, crypto=record.crypto, data=record.signed_bytes(), signature=record.sig)
