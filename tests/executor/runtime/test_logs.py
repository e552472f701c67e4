import socket
import threading
import time
from typing import Any

from executor.runtime.logs import LogCapture, LogStreams, log_limit
from protocol.messages.common import MAX_LOG_CHARS


def test_a_stream_within_its_limit_is_kept_whole_and_counted() -> None:
    capture = LogCapture("stdout", 100)
    capture.add("héllo\n".encode())
    log = capture.log()
    assert (log.text, log.written, log.truncated) == ("héllo\n", 7, False)


def test_past_its_limit_a_stream_keeps_its_head_counts_the_rest_and_ends_with_the_marker() -> None:
    capture = LogCapture("stderr", 4)
    for _ in range(1000):
        capture.add(b"abcdef")
    log = capture.log()
    assert log.text == "abcd\n[meshwork: stderr truncated: 6000 bytes written, 4 kept]\n"
    assert (log.written, log.truncated) == (6000, True)
    assert len(capture.kept) == 4  # memory stays at the limit


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    capture = LogCapture("stdout", 10)
    capture.add(b"ok \xff")
    assert capture.log().text == "ok \ufffd"


def test_the_limit_leaves_room_for_the_marker_within_the_message_cap(settings: Any) -> None:
    settings.EXECUTOR_MAX_LOG_BYTES = 1000
    assert log_limit() == 1000
    settings.EXECUTOR_MAX_LOG_BYTES = 10 * MAX_LOG_CHARS
    assert log_limit() == MAX_LOG_CHARS - 128


def _frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def test_streams_are_drained_apart_counted_and_a_stuck_stream_is_ended_by_close(settings: Any) -> None:
    settings.EXECUTOR_MAX_LOG_BYTES = 5
    ours, engine = socket.socketpair()
    streams = LogStreams()
    streams._socket = ours  # what attach would have set: the engine's end of the hijacked request
    drain = threading.Thread(target=streams.drain)
    drain.start()
    engine.sendall(_frame(1, b"hello world") + _frame(2, b"oops") + _frame(1, b"!"))
    for _ in range(100):  # the drain thread reads as the frames arrive
        if streams.logs()[0].written == 12:
            break
        time.sleep(0.05)
    streams.close()  # the engine never ends the stream: close must still end the drain
    drain.join(timeout=10)
    engine.close()

    assert not drain.is_alive()
    stdout, stderr = streams.logs()
    assert stdout.text == "hello\n[meshwork: stdout truncated: 12 bytes written, 5 kept]\n"
    assert (stderr.text, stderr.written, stderr.truncated) == ("oops", 4, False)
