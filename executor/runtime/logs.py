"""Reading a container's stdout and stderr in one API call, with bounded memory.

docker-py's `logs()` returns one stream per call and inspects the container before each (to learn
whether it has a TTY): four round trips. Job containers never have a TTY, so their log stream is
Docker's documented multiplexed format — frames of an 8-byte header (stream id, 3 zero bytes,
big-endian length) and a payload — which one request returns for both streams.

Each stream keeps its first `EXECUTOR_MAX_LOG_BYTES` bytes; the rest is counted, not kept, and a
marker says how much was dropped. The head is kept because that is where errors usually start."""

import requests
from django.conf import settings
from docker import APIClient
from docker.errors import create_api_error_from_http_exception

from executor.runtime.engine import API_TIMEOUT_S
from protocol.messages.common import MAX_LOG_CHARS

_MARKER = "\n[... truncated {} bytes]"
_STDOUT, _STDERR = 1, 2
_CHUNK = 64 * 1024


def log_limit() -> int:
    # Room for the marker within the message's own cap (chars >= decoded bytes).
    return max(0, min(int(settings.EXECUTOR_MAX_LOG_BYTES), MAX_LOG_CHARS - 64))


def truncated(data: bytes, dropped: int) -> str:
    text = data.decode("utf-8", errors="replace")
    return text + _MARKER.format(dropped) if dropped else text


class _Capped:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self.limit - len(self.kept)
        self.kept += data[:room]
        self.dropped += max(0, len(data) - room)

    def text(self) -> str:
        return truncated(bytes(self.kept), self.dropped)


def read_logs(api: APIClient, container: str) -> tuple[str, str]:
    """(stdout, stderr) of a container created without a TTY."""
    streams = {_STDOUT: _Capped(log_limit()), _STDERR: _Capped(log_limit())}
    url = f"{api.base_url}/v{api.api_version}/containers/{container}/logs"
    params = {"stdout": 1, "stderr": 1, "follow": 0}
    with api.get(url, params=params, stream=True, timeout=API_TIMEOUT_S) as response:
        try:
            response.raise_for_status()
        except requests.HTTPError as exc:
            raise create_api_error_from_http_exception(exc) from exc
        raw = response.raw
        while len(header := raw.read(8)) == 8:
            target = streams.get(header[0], streams[_STDOUT])
            left = int.from_bytes(header[4:8], "big")
            while left > 0 and (data := raw.read(min(left, _CHUNK))):
                target.add(data)
                left -= len(data)
    return streams[_STDOUT].text(), streams[_STDERR].text()
