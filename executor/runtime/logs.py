"""Reading a container's stdout and stderr in one API call, with bounded memory.

docker-py's `logs()` returns one stream per call and inspects the container before each (to learn
whether it has a TTY): four round trips. Job containers never have a TTY, so their log stream is
Docker's documented multiplexed format — frames of an 8-byte header (stream id, 3 zero bytes,
big-endian length) and a payload — which one request returns for both streams.

Each stream keeps its first `EXECUTOR_MAX_LOG_BYTES` bytes; the rest is read and counted, not kept,
and a marker says how much was written and kept (`protocol/reports.py`). The head is kept because
that is where errors usually start. Memory stays at the limit however much a job prints."""

from dataclasses import dataclass

import requests
from django.conf import settings
from docker import APIClient
from docker.errors import create_api_error_from_http_exception

from executor.runtime.engine import API_TIMEOUT_S
from protocol.messages.common import MAX_LOG_CHARS
from protocol.reports import log_text

_STDOUT, _STDERR = 1, 2
_CHUNK = 64 * 1024


def log_limit() -> int:
    # Room for the marker within the message's own cap (chars >= decoded bytes).
    return max(0, min(int(settings.EXECUTOR_MAX_LOG_BYTES), MAX_LOG_CHARS - 128))


@dataclass(frozen=True)
class Log:
    text: str  # the kept head, decoded, with the marker if bytes were dropped
    written: int  # bytes the job wrote to the stream
    truncated: bool


class LogCapture:
    """One stream: its first `limit` bytes kept, every byte counted."""

    def __init__(self, stream: str, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.kept = bytearray()
        self.written = 0

    def add(self, data: bytes) -> None:
        room = self.limit - len(self.kept)
        if room > 0:
            self.kept += data[:room]
        self.written += len(data)

    def log(self) -> Log:
        head = bytes(self.kept)
        return Log(
            text=log_text(self.stream, head, self.written), written=self.written, truncated=self.written > len(head)
        )


def read_logs(api: APIClient, container: str) -> tuple[Log, Log]:
    """(stdout, stderr) of a container created without a TTY."""
    streams = {_STDOUT: LogCapture("stdout", log_limit()), _STDERR: LogCapture("stderr", log_limit())}
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
    return streams[_STDOUT].log(), streams[_STDERR].log()
