"""Job input as a zip file: decoded from the spec, or fetched from its URL.

Both paths stop at `EXECUTOR_MAX_INPUT_BYTES` before buffering more. A fetch that cannot complete
(unreachable, HTTP error, too slow) is `input_unavailable`; a body that is too big or not a zip is
`input_invalid` — both the job's fault, since the user chose the URL. The fetch reaches whatever
the miner host can reach: operators who care about internal services should firewall it."""

import asyncio
import base64
import binascii
import tempfile
from typing import IO

import httpx
from django.conf import settings

from executor.runtime.engine import in_thread
from executor.runtime.failures import InputInvalid, JobFailure
from protocol.messages.common import FailureReason, JobInput, UrlInput, ZipInput

# Small inputs stay in memory; bigger ones spill to disk.
_SPOOL_BYTES = 8 * 1024 * 1024


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)


async def input_open(spec_input: JobInput | None) -> IO[bytes] | None:
    """Returns the zip bytes rewound to the start (the caller closes the file), or None."""
    if spec_input is None:
        return None
    if isinstance(spec_input, ZipInput):
        return await in_thread(_decode, spec_input)
    return await _fetch(spec_input)


def _decode(spec_input: ZipInput) -> IO[bytes]:
    limit = settings.EXECUTOR_MAX_INPUT_BYTES
    if len(spec_input.zip_b64) * 3 // 4 > limit + 3:
        raise InputInvalid(f"input zip is larger than {limit} bytes")
    try:
        data = base64.b64decode(spec_input.zip_b64, validate=True)
    except binascii.Error as exc:
        raise InputInvalid(f"input is not valid base64: {exc}") from exc
    out = _spool()
    out.write(data)
    out.seek(0)
    return out


async def _fetch(spec_input: UrlInput) -> IO[bytes]:
    limit = settings.EXECUTOR_MAX_INPUT_BYTES
    timeout_s = settings.EXECUTOR_URL_FETCH_TIMEOUT_S
    out = _spool()
    try:
        # httpx's timeout is per read; the overall deadline stops a server that drips bytes.
        async with asyncio.timeout(timeout_s), httpx.AsyncClient(timeout=timeout_s, follow_redirects=True) as client:
            async with client.stream("GET", spec_input.url) as response:
                if response.status_code >= 400:
                    raise JobFailure(
                        FailureReason.INPUT_UNAVAILABLE, f"GET {spec_input.url} → HTTP {response.status_code}"
                    )
                received = 0
                async for chunk in response.aiter_bytes():
                    received += len(chunk)
                    if received > limit:
                        raise InputInvalid(f"input at {spec_input.url} is larger than {limit} bytes")
                    out.write(chunk)
    except httpx.HTTPError as exc:
        out.close()
        raise JobFailure(FailureReason.INPUT_UNAVAILABLE, f"GET {spec_input.url} failed: {exc!r}") from exc
    except TimeoutError as exc:
        out.close()
        raise JobFailure(FailureReason.INPUT_UNAVAILABLE, f"GET {spec_input.url} took over {timeout_s} s") from exc
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out
