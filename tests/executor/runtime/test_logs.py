from typing import Any

from executor.runtime.logs import log_limit, truncated
from protocol.messages.common import MAX_LOG_CHARS


def test_untruncated_logs_are_decoded_as_is() -> None:
    assert truncated("héllo\n".encode(), 0) == "héllo\n"


def test_truncation_is_marked_with_the_dropped_byte_count() -> None:
    assert truncated(b"head", 1234) == "head\n[... truncated 1234 bytes]"


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert truncated(b"ok \xff", 0) == "ok \ufffd"


def test_the_limit_leaves_room_for_the_marker_within_the_message_cap(settings: Any) -> None:
    settings.EXECUTOR_MAX_LOG_BYTES = 1000
    assert log_limit() == 1000
    settings.EXECUTOR_MAX_LOG_BYTES = 10 * MAX_LOG_CHARS
    assert log_limit() == MAX_LOG_CHARS - 64
