"""Job input as a zip file: decoded from the spec, or fetched from its URL.

Both paths stop at `EXECUTOR_MAX_INPUT_BYTES` before buffering more. A zip that is too big or not
base64 is `input_invalid`; a URL is fetched from public addresses only, with its own fixed failure
reasons (executor/runtime/input_fetch.py). Either is the job's fault, since the user chose it."""

import base64
import binascii
import tempfile
from typing import IO

from django.conf import settings

from executor.runtime.engine import in_thread
from executor.runtime.failures import InputInvalid
from executor.runtime.input_fetch import url_fetch
from protocol.messages.common import JobInput, UrlInput, ZipInput

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
    out = _spool()
    try:
        await url_fetch(spec_input.url, out)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out
