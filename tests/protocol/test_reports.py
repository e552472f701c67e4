import base64
import re
from typing import Any

import pytest

from protocol.messages.common import JobResult
from protocol.reports import ReportTooLarge, frame_budget, log_text, output_zip_budget, result_fit

MARKER = re.compile(r"\n\[meshwork: (stdout|stderr) truncated: (\d+) bytes written, (\d+) kept\]\n\Z")


def _size(result: JobResult) -> int:
    return len(result.model_dump_json().encode())


def _split(text: str) -> tuple[str, int, int]:
    match = MARKER.search(text)
    assert match is not None, text[-200:]
    return text[: match.start()], int(match.group(2)), int(match.group(3))


def test_a_head_shorter_than_what_was_written_gets_the_marker() -> None:
    assert log_text("stdout", b"abc", 3) == "abc"
    assert (
        log_text("stdout", b"abc", 209715200) == "abc\n[meshwork: stdout truncated: 209715200 bytes written, 3 kept]\n"
    )


def test_a_result_that_fits_is_left_alone() -> None:
    result = JobResult(exit_code=0, stdout="x" * 1000, stderr="y", executor_seconds=1.0, stdout_bytes=1000)
    assert result_fit(result, budget=10_000) is result


def test_long_logs_are_cut_to_fit_keeping_heads_and_counts() -> None:
    result = JobResult(
        exit_code=0, stdout="o" * 400_000, stderr="e" * 100_000, executor_seconds=1.0, stdout_bytes=400_000
    )
    fitted = result_fit(result, budget=150_000)

    assert _size(fitted) <= 150_000
    head, written, kept = _split(fitted.stdout)
    assert written == 400_000
    assert head == "o" * kept
    assert kept > 10_000
    assert fitted.stdout_truncated
    assert fitted.stdout_bytes == 400_000
    assert fitted.stderr.startswith("e")  # the longer stream is cut first, the other kept if it can


def test_logs_that_escape_to_six_bytes_a_char_are_cut_by_their_encoded_size() -> None:
    result = JobResult(exit_code=0, stdout="\0" * 300_000, executor_seconds=1.0, stdout_bytes=300_000)
    assert _size(result) > 1_800_000
    fitted = result_fit(result, budget=100_000)
    assert _size(fitted) <= 100_000
    head, written, kept = _split(fitted.stdout)
    assert head == "\0" * kept
    assert written == 300_000


def test_a_log_already_cut_upstream_is_cut_again_with_one_marker_and_the_original_count() -> None:
    upstream = log_text("stderr", b"z" * 50_000, 52_428_800)
    result = JobResult(
        exit_code=1, stderr=upstream, executor_seconds=1.0, stderr_bytes=52_428_800, stderr_truncated=True
    )
    fitted = result_fit(result, budget=20_000)
    head, written, kept = _split(fitted.stderr)
    assert written == 52_428_800
    assert head == "z" * kept
    assert "[meshwork" not in head


def test_a_zip_too_large_for_the_frame_raises_instead_of_being_cut() -> None:
    result = JobResult(exit_code=0, stdout="o" * 1000, output_zip_b64="A" * 50_000, executor_seconds=1.0)
    with pytest.raises(ReportTooLarge):
        result_fit(result, budget=20_000)


def test_the_zip_budget_leaves_its_base64_room_in_a_frame(settings: Any) -> None:
    settings.PROTOCOL_MAX_FRAME_BYTES = 1024 * 1024
    zip_b64 = base64.b64encode(b"\xff" * output_zip_budget()).decode()
    result = JobResult(exit_code=0, stdout="o" * 900_000, output_zip_b64=zip_b64, executor_seconds=1.0)
    fitted = result_fit(result)
    assert _size(fitted) <= frame_budget()
    assert fitted.output_zip_b64 == zip_b64
