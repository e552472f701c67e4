"""Reading a container's stdout and stderr with bounded memory.

Each stream keeps its first `EXECUTOR_MAX_LOG_BYTES` bytes; the rest is counted, not kept, and a
marker says how much was dropped. The head is kept because that is where errors usually start."""

import contextlib

import docker
from django.conf import settings

from protocol.messages.common import MAX_LOG_CHARS

_MARKER = "\n[... truncated {} bytes]"


def log_limit() -> int:
    # Room for the marker within the message's own cap (chars >= decoded bytes).
    return max(0, min(settings.EXECUTOR_MAX_LOG_BYTES, MAX_LOG_CHARS - 64))


def truncated(data: bytes, dropped: int) -> str:
    text = data.decode("utf-8", errors="replace")
    return text + _MARKER.format(dropped) if dropped else text


def read_log(api: docker.APIClient, container: str, *, stderr: bool) -> str:
    limit = log_limit()
    kept = bytearray()
    dropped = 0
    chunks = api.logs(container, stdout=not stderr, stderr=stderr, stream=True, follow=False)
    try:
        for chunk in chunks:
            room = limit - len(kept)
            kept += chunk[:room]
            dropped += max(0, len(chunk) - room)
    finally:
        with contextlib.suppress(Exception):
            chunks.close()
    return truncated(bytes(kept), dropped)
