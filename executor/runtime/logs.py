"""A job container's stdout and stderr, captured with bounded memory and no disk at all.

Job containers log to Docker's "none" driver: the json-file default wrote every byte a job printed
to the engine's disk (a job printing 200 MB left over 400 MB there) and `logs` then read it all
back. Instead `LogStreams` attaches to the container before it starts and drains both streams
while it runs, in one request: Docker's multiplexed format (frames of an 8-byte header — stream
id, 3 zero bytes, big-endian length — and a payload; job containers never have a TTY). A job that
prints faster than we read is slowed by the pipe, never buffered without bound.

Each stream keeps its first `EXECUTOR_MAX_LOG_BYTES` bytes; the rest is read and counted, not kept,
and a marker says how much was written and kept (`protocol/reports.py`). The head is kept because
that is where errors usually start.
"""

import contextlib
import socket
import threading
from dataclasses import dataclass
from typing import Any

from docker import APIClient
from docker.utils.socket import frames_iter_no_tty

from protocol.messages.common import MAX_LOG_CHARS
from protocol.reports import log_text
from protocol.tunables import tunable

_STDOUT, _STDERR = 1, 2


def log_limit() -> int:
    # Room for the marker within the message's own cap (chars >= decoded bytes).
    return max(0, min(int(tunable("EXECUTOR_MAX_LOG_BYTES")), MAX_LOG_CHARS - 128))


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


class LogStreams:
    """Both streams of one container, from before its start to its end (`attach`, then `drain`
    in a thread of its own; `logs()` is safe to call meanwhile and after)."""

    def __init__(self) -> None:
        self.stdout = LogCapture("stdout", log_limit())
        self.stderr = LogCapture("stderr", log_limit())
        self._socket: Any = None
        self._lock = threading.Lock()
        self.closed = False

    def attach(self, api: APIClient, container: str) -> None:
        params = {"stdout": 1, "stderr": 1, "stream": 1, "logs": 0}
        sock = api.attach_socket(container, params=params)
        # The API timeout would end the stream of a job quiet for a minute; the stream ends when
        # the container does, and `close` ends it early.
        api._disable_socket_timeout(sock)
        with self._lock:
            self._socket = sock

    def drain(self) -> None:
        """Reads until the container's streams end (or `close`); never raises: what was read counts."""
        streams = {_STDOUT: self.stdout, _STDERR: self.stderr}
        with contextlib.suppress(OSError, ValueError, AttributeError):
            for stream, data in frames_iter_no_tty(self._socket):
                with self._lock:
                    streams.get(stream, self.stdout).add(data)
        self.close()

    def close(self) -> None:
        with self._lock:
            sock, self._socket, self.closed = self._socket, None, True
        if sock is None:
            return
        raw = getattr(sock, "_sock", sock)  # the socket may sit inside a SocketIO
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)  # wakes a drain blocked in recv (close alone may not)
        for closing in (sock, raw, getattr(sock, "_response", None)):
            if closing is not None:
                with contextlib.suppress(Exception):
                    closing.close()

    def logs(self) -> tuple[Log, Log]:
        with self._lock:
            return self.stdout.log(), self.stderr.log()
