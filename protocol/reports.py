"""A job's report within the protocol's limits, on every hop (executor → miner → validator →
facilitator): stdout/stderr keep their head, end with one marker saying how much was written and
kept, and are cut further (never dropped) when the whole report would not fit in one frame.

The output zip is not cut (a partial zip is useless): the executor keeps it within
`output_zip_budget()`, so a report always fits once its logs are short enough; a report that still
does not fit raises `ReportTooLarge`, for the caller to turn into the job's failure."""

import json
import re

from django.conf import settings
from pydantic import BaseModel

from protocol.messages.common import JobResult

# Room in a frame for everything but the result: message type, uuids, failure detail (4000 chars,
# up to 6 bytes each once escaped), status detail, miner hotkey.
FRAME_HEADROOM_BYTES = 64 * 1024
_MARKER = "\n[meshwork: {stream} truncated: {written} bytes written, {kept} kept]\n"
_MARKER_AT_END = re.compile(r"\n\[meshwork: (?:stdout|stderr) truncated: \d+ bytes written, \d+ kept\]\n\Z")
_STREAMS = ("stdout", "stderr")


class ReportTooLarge(Exception):
    """Even with empty logs the report exceeds the frame: its output zip is too large."""


def log_text(stream: str, head: bytes, written: int) -> str:
    """The kept `head` of `written` bytes as text, with the marker when bytes were dropped."""
    text = head.decode("utf-8", errors="replace")
    if written > len(head):
        text += _MARKER.format(stream=stream, written=written, kept=len(head))
    return text


def frame_budget() -> int:
    """Bytes a result may take in a frame."""
    return max(0, int(settings.PROTOCOL_MAX_FRAME_BYTES) - FRAME_HEADROOM_BYTES)


def output_zip_budget() -> int:
    """The largest output zip whose base64 fits in a frame next to a minimal report."""
    return frame_budget() * 3 // 4 - 4096


def result_fit(result: JobResult, *, budget: int | None = None) -> JobResult:
    """`result` unchanged if its JSON fits `budget` bytes (default: `frame_budget()`), else with its
    logs cut (the longer first) until it does. Raises ReportTooLarge if the logs are not the problem."""
    limit = frame_budget() if budget is None else budget
    for _ in range(64):  # each round at least halves a log; 64 rounds empty any log there is
        excess = _json_size(result) - limit
        if excess <= 0:
            return result
        stream = max(_STREAMS, key=lambda name: _json_size(_head(result, name)))
        head = _head(result, stream)
        if not head:
            raise ReportTooLarge(f"a report of {excess + limit} bytes exceeds the frame's {limit} without its logs")
        size = _json_size(head)
        # Chars take 1–6 bytes once escaped: cut in proportion, and at least by half a round.
        keep = min(len(head) // 2, int(len(head) * max(0, size - excess) / size))
        result = _cut(result, stream, head[:keep])
    raise ReportTooLarge(f"a report could not be cut to {limit} bytes")


def _head(result: JobResult, stream: str) -> str:
    """The stream's text without its marker."""
    text: str = getattr(result, stream)
    return _MARKER_AT_END.sub("", text)


def _cut(result: JobResult, stream: str, head: str) -> JobResult:
    kept = head.encode("utf-8", errors="replace")
    written = getattr(result, f"{stream}_bytes")
    written = max(written if written is not None else 0, len(getattr(result, stream).encode()), len(kept) + 1)
    update = {stream: log_text(stream, kept, written), f"{stream}_bytes": written, f"{stream}_truncated": True}
    return result.model_copy(update=update)


def _json_size(value: BaseModel | str) -> int:
    if isinstance(value, BaseModel):
        return len(value.model_dump_json().encode())
    return len(json.dumps(value, ensure_ascii=False).encode())
