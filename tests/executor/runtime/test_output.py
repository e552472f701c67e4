import io
import os

import pytest

from executor.runtime.failures import OutputTooLarge
from executor.runtime.output import OutputZip
from protocol.messages.common import FailureReason
from tests.executor.runtime.job_runs import unzip


def test_files_are_zipped_and_encoded() -> None:
    zipper = OutputZip(max_bytes=100, max_zip_bytes=10_000)
    zipper.add("a.txt", io.BytesIO(b"alpha"), 5)
    zipper.add("dir/b.txt", io.BytesIO(b"beta"), 4)
    assert unzip(zipper.finish()) == {"a.txt": b"alpha", "dir/b.txt": b"beta"}


def test_empty_output_is_an_empty_string() -> None:
    assert OutputZip(max_bytes=100, max_zip_bytes=10_000).finish() == ""


def test_total_size_over_the_class_limit_is_refused_before_reading() -> None:
    zipper = OutputZip(max_bytes=100, max_zip_bytes=10_000)
    zipper.add("a", io.BytesIO(b"x" * 60), 60)
    untouched = io.BytesIO(b"y" * 60)
    with pytest.raises(OutputTooLarge) as caught:
        zipper.add("b", untouched, 60)
    assert caught.value.reason is FailureReason.OUTPUT_TOO_LARGE
    assert caught.value.detail == "/output holds more than 100 bytes (the class limit)"
    assert untouched.tell() == 0


def test_a_zip_over_the_message_limit_is_refused() -> None:
    zipper = OutputZip(max_bytes=10_000_000, max_zip_bytes=1000)
    incompressible = os.urandom(4096)
    with pytest.raises(OutputTooLarge, match="zips to more than 1000 bytes"):
        zipper.add("noise", io.BytesIO(incompressible), len(incompressible))
