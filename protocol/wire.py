"""Decoding and encoding frames. Every decode failure becomes a `ProtocolError` with a code, so a
consumer can answer with a typed error instead of crashing."""

import json
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from protocol.messages.common import ErrorCode, ErrorMessage

T = TypeVar("T")


class ProtocolError(Exception):
    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail

    def as_message(self) -> ErrorMessage:
        return ErrorMessage(code=self.code, detail=self.detail[:4000])


def decode(adapter: TypeAdapter[T], raw: str | bytes | None, *, max_bytes: int) -> T:
    if raw is None:
        raise ProtocolError(ErrorCode.MALFORMED, "empty frame")
    # A str frame counts in UTF-8 bytes; encode only when its length alone cannot settle it.
    size = len(raw) if isinstance(raw, bytes) or len(raw) * 4 <= max_bytes else len(raw.encode())
    if size > max_bytes:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"frame of {size} bytes exceeds {max_bytes}")
    try:
        data: Any = json.loads(raw)
    except RecursionError as exc:  # a nesting bomb: a few kilobytes of "[" exhaust the parser's stack
        raise ProtocolError(ErrorCode.MALFORMED, "not JSON: nesting too deep") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(ErrorCode.MALFORMED, f"not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ProtocolError(ErrorCode.MALFORMED, "a message is a JSON object with a string 'type'")
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        if any(e["type"] == "union_tag_invalid" for e in exc.errors()):
            raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {data['type']!r}") from exc
        raise ProtocolError(ErrorCode.MALFORMED, _summarise(exc)) from exc


def encode(message: BaseModel) -> str:
    return message.model_dump_json()


def _summarise(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
    return "; ".join(parts)
