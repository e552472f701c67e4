"""Turning a job's input into zip bytes: decoding and fetching, with their failures."""

import socket
from typing import Any

import pytest

from executor.runtime.failures import JobFailure
from executor.runtime.inputs import input_open
from protocol.messages.common import FailureReason, UrlInput, ZipInput
from tests.executor.runtime.http_server import serving
from tests.executor.runtime.job_runs import b64, zip_bytes


async def _read(spec_input: Any) -> bytes | None:
    source = await input_open(spec_input)
    if source is None:
        return None
    with source:
        return source.read()


async def test_no_input_is_none() -> None:
    assert await _read(None) is None


async def test_zip_b64_is_decoded() -> None:
    data = zip_bytes({"a.txt": "a"})
    assert await _read(ZipInput(zip_b64=b64(data))) == data


async def test_bad_base64_is_invalid() -> None:
    with pytest.raises(JobFailure) as caught:
        await _read(ZipInput(zip_b64="not base64!"))
    assert caught.value.reason is FailureReason.INPUT_INVALID


async def test_a_url_is_fetched() -> None:
    data = zip_bytes({"a.txt": "a"})
    with serving({"/in.zip": data}) as base:
        assert await _read(UrlInput(url=f"{base}/in.zip")) == data


async def test_an_http_error_is_unavailable() -> None:
    with serving({}) as base, pytest.raises(JobFailure) as caught:
        await _read(UrlInput(url=f"{base}/missing.zip"))
    assert (caught.value.reason, caught.value.detail) == (
        FailureReason.INPUT_UNAVAILABLE,
        f"GET {base}/missing.zip → HTTP 404",
    )


async def test_an_unreachable_url_is_unavailable() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(JobFailure) as caught:
        await _read(UrlInput(url=f"http://127.0.0.1:{port}/in.zip"))
    assert caught.value.reason is FailureReason.INPUT_UNAVAILABLE


async def test_a_body_over_the_limit_is_invalid(settings: Any) -> None:
    settings.EXECUTOR_MAX_INPUT_BYTES = 1000
    with serving({"/big.zip": b"x" * 5000}) as base, pytest.raises(JobFailure) as caught:
        await _read(UrlInput(url=f"{base}/big.zip"))
    assert caught.value.reason is FailureReason.INPUT_INVALID
    assert "larger than 1000 bytes" in caught.value.detail


async def test_a_fetch_past_its_deadline_is_unavailable(settings: Any) -> None:
    settings.EXECUTOR_URL_FETCH_TIMEOUT_S = 0.3
    with serving({"/slow.zip": b"x"}, delay_s=2) as base, pytest.raises(JobFailure) as caught:
        await _read(UrlInput(url=f"{base}/slow.zip"))
    assert caught.value.reason is FailureReason.INPUT_UNAVAILABLE
