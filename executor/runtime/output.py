"""Packing `/output` into the result zip, within limits.

Two limits: the files' total size (the class's `output_mb`) and the zip's size (`zip_limit()`:
`EXECUTOR_MAX_OUTPUT_BYTES`, and never more than fits in a frame once base64-encoded). Only regular files
are packed: symlinks could point anywhere on the host that reads them, and FIFOs would block."""

import base64
import contextlib
import io
import zipfile
from typing import IO

from executor.runtime.failures import OutputTooLarge
from protocol.reports import output_zip_budget
from protocol.tunables import tunable

MAX_OUTPUT_ENTRIES = 65_536
_CHUNK = 1024 * 1024


def zip_limit() -> int:
    return max(0, min(int(tunable("EXECUTOR_MAX_OUTPUT_BYTES")), output_zip_budget()))


class OutputZip:
    def __init__(self, *, max_bytes: int, max_zip_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_zip_bytes = max_zip_bytes
        self.total = 0
        self.entries = 0
        self._buffer = io.BytesIO()
        # Level 1: outputs are often already compressed; speed matters more than ratio here.
        self._zip = zipfile.ZipFile(self._buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1)

    def add(self, name: str, src: IO[bytes], size: int) -> None:
        try:
            self.entries += 1
            self.total += size
            self._check()
            with self._zip.open(name, "w", force_zip64=size > 2**31) as dst:
                while chunk := src.read(_CHUNK):
                    dst.write(chunk)
                    self._check()
            self._check()
        except BaseException:
            # Close now: left to the garbage collector, the zip may outlive its buffer and complain.
            with contextlib.suppress(Exception):
                self._zip.close()
            raise

    def _check(self) -> None:
        if self.entries > MAX_OUTPUT_ENTRIES:
            raise OutputTooLarge(f"/output holds more than {MAX_OUTPUT_ENTRIES} files")
        if self.total > self.max_bytes:
            raise OutputTooLarge(f"/output holds more than {self.max_bytes} bytes (the class limit)")
        if self._buffer.tell() > self.max_zip_bytes:
            raise OutputTooLarge(f"/output zips to more than {self.max_zip_bytes} bytes")

    def finish(self) -> str:
        """The zip, base64-encoded; "" when /output is empty (nothing worth shipping)."""
        self._zip.close()
        if self.entries == 0:
            return ""
        if self._buffer.tell() > self.max_zip_bytes:
            raise OutputTooLarge(f"/output zips to more than {self.max_zip_bytes} bytes")
        return base64.b64encode(self._buffer.getvalue()).decode()
