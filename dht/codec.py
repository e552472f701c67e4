"""Bytes ↔ JSON for everything that crosses the wire or is read back from a peer.

Canonical JSON (protocol.canonical) is the only encoding: it is what gets signed, and decoding it
runs no code (unlike pickle). Decoding hostile bytes is bounded: the size is checked before parsing,
NaN/Infinity are refused (they would not survive re-encoding), and absurd nesting is an error."""

import json
from typing import Any


class CodecError(ValueError):
    """The bytes are not acceptable canonical-JSON input."""


def _refuse_constant(name: str) -> Any:
    raise CodecError(f"non-finite number {name} is not allowed")


def decode(data: bytes, *, max_bytes: int) -> Any:
    if len(data) > max_bytes:
        raise CodecError(f"{len(data)} bytes exceeds the {max_bytes}-byte limit")
    try:
        return json.loads(data, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise CodecError("nesting too deep") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CodecError(f"not JSON: {exc}") from exc


def canonical(value: Any) -> bytes:
    """protocol.canonical_json's exact bytes, but refusing NaN/Infinity (ValueError): what we sign
    and send must decode on every peer."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def encode(value: Any, *, max_bytes: int) -> bytes:
    try:
        data = canonical(value)
    except ValueError as exc:
        raise CodecError(str(exc)) from exc
    if len(data) > max_bytes:
        raise CodecError(f"{len(data)} bytes exceeds the {max_bytes}-byte limit")
    return data
