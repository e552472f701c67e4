"""Turning a job's input into zip bytes: decoding and fetching, with their failures."""

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


async def test_a_url_is_fetched(loopback_inputs: None) -> None:
    data = zip_bytes({"a.txt": "a"})
    with serving({"/in.zip": data}) as base:
        assert await _read(UrlInput(url=f"{base}/in.zip")) == data


async def test_the_miners_own_api_is_refused_and_its_answer_never_shown() -> None:
    # The case: a URL input pointing at a service on the miner's host.
    with serving({"/api/v1/account/": b'{"detail": "401"}'}) as base, pytest.raises(JobFailure) as caught:
        await _read(UrlInput(url=f"{base}/api/v1/account/"))
    assert (caught.value.reason, caught.value.detail) == (
        FailureReason.INPUT_REFUSED_ADDRESS,
        "the input URL's host is not a public address this node fetches from",
    )


async def test_an_http_error_is_unreachable_without_its_status(loopback_inputs: None) -> None:
    with serving({}) as base, pytest.raises(JobFailure) as caught:
        await _read(UrlInput(url=f"{base}/missing.zip"))
    assert (caught.value.reason, caught.value.detail) == (
        FailureReason.INPUT_UNREACHABLE,
        "the input URL's server did not deliver it",
    )


async def test_a_body_over_the_limit_is_too_large(loopback_inputs: None, settings: Any) -> None:
    settings.EXECUTOR_MAX_INPUT_BYTES = 1000
    with serving({"/big.zip": b"x" * 5000}) as base, pytest.raises(JobFailure) as caught:
        await _read(UrlInput(url=f"{base}/big.zip"))
    assert caught.value.reason is FailureReason.INPUT_TOO_LARGE


async def test_a_fetch_past_its_deadline_is_a_timeout(loopback_inputs: None, settings: Any) -> None:
    settings.EXECUTOR_URL_FETCH_TIMEOUT_S = 0.3
    with serving({"/slow.zip": b"x"}, delay_s=2) as base, pytest.raises(JobFailure) as caught:
        await _read(UrlInput(url=f"{base}/slow.zip"))
    assert caught.value.reason is FailureReason.INPUT_TIMEOUT
