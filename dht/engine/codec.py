"""Bytes ↔ JSON for everything that crosses the wire or is read back from a peer.

Canonical JSON (protocol.canonical) is the only encoding: it is what gets signed, and decoding it
runs no code (unlike pickle). Decoding hostile bytes is bounded: the size is checked before parsing,
NaN/Infinity are refused (they would not survive re-encoding), and absurd nesting is an error."""

import json
import math
from typing import Any

from protocol.canonical import canonical_json

# How json spells non-finite floats; any of them in the output means there may be one in the value.
_NON_FINITE_TOKENS = (b"NaN", b"Infinity")


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


def _non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_non_finite(k) or _non_finite(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_non_finite(v) for v in value)
    return False


def canonical_or_error(value: Any) -> bytes:
    """protocol.canonical_json's exact bytes, refusing NaN/Infinity (CodecError, a ValueError): what
    we sign and send must decode on every peer. The value is walked only when the encoded bytes
    contain a non-finite token (a string may, too), so the hot path costs one substring scan."""
    data = canonical_json(value)
    if any(token in data for token in _NON_FINITE_TOKENS) and _non_finite(value):
        raise CodecError("non-finite numbers (NaN, Infinity) are not allowed")
    return data


def encode(value: Any, *, max_bytes: int) -> bytes:
    data = canonical_or_error(value)
    if len(data) > max_bytes:
        raise CodecError(f"{len(data)} bytes exceeds the {max_bytes}-byte limit")
    return data
