"""Volume workspace: for engines reached only through the Docker API (tcp://, or when this process
may not mount). Everything goes through the API, so it works on a remote GPU host.

- /output is an anonymous volume, removed with the container. Docker creates it root-owned; a
  one-entry tar named "/" (owner nobody) put into it before start makes it the job user's — the
  engine chowns the extraction root. It is read back with `get_archive` after the container
  exited. Its size is checked only then: a job can fill the engine's disk while it runs (the
  honest limit of this mode; an engine with xfs project quotas could add `storage_opt`).
- /volume is a named volume filled through a helper container that is created (never started)
  with it mounted read-write, since Docker refuses `put_archive` into a read-only mount. Only jobs
  with input pay for the helper."""

import contextlib
import io
import logging
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import docker
from django.conf import settings
from docker.errors import NotFound
from docker.types import Mount

from executor.runtime.names import JOB_GID, JOB_UID, job_labels
from executor.runtime.output import OutputZip, zip_limit
from executor.runtime.zip_safety import zip_check, zip_open, zip_to_tar
from protocol.messages.executor import ExecutorRun

logger = logging.getLogger(__name__)

MiB = 1024 * 1024


def _ownership_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        root = tarfile.TarInfo("/")
        root.type, root.mode, root.uid, root.gid = tarfile.DIRTYPE, 0o700, JOB_UID, JOB_GID
        tar.addfile(root)
    return buffer.getvalue()


_OWNERSHIP_TAR = _ownership_tar()


class _ChunkReader(io.RawIOBase):
    """A file over docker-py's chunk iterator, for tarfile's streaming mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]
        if not self._pending:
            self._pending = next(self._chunks, b"")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


@dataclass
class VolumeWorkspace:
    api: docker.APIClient
    run: ExecutorRun
    owner: str
    container: str

    @property
    def input_volume(self) -> str | None:
        return f"{self.container}-volume" if self.run.spec.input is not None else None

    @classmethod
    def open(cls, *, api: docker.APIClient, run: ExecutorRun, owner: str, container: str) -> "VolumeWorkspace":
        workspace = cls(api=api, run=run, owner=owner, container=container)
        if workspace.input_volume:
            api.create_volume(workspace.input_volume, labels=job_labels(job_uuid=run.job_uuid, owner=owner))
        return workspace

    def mounts(self) -> list[Mount]:
        mounts = [Mount("/output", None, type="volume")]
        if self.input_volume:
            mounts.append(Mount("/volume", self.input_volume, type="volume", read_only=True))
        return mounts

    def load_input(self, source: IO[bytes] | None) -> None:
        self.api.put_archive(self.container, "/output", _OWNERSHIP_TAR)
        if source is None or self.input_volume is None:
            return
        limit = settings.EXECUTOR_MAX_INPUT_BYTES
        with zip_open(source) as zf, tempfile.TemporaryFile() as tar:
            zip_to_tar(zf, zip_check(zf, max_bytes=limit), tar, max_bytes=limit)
            tar.seek(0)
            helper = self.api.create_container(
                self.run.spec.image,
                command=["true"],
                name=f"{self.container}-input",
                labels=job_labels(job_uuid=self.run.job_uuid, owner=self.owner),
                host_config=self.api.create_host_config(
                    network_mode="none", mounts=[Mount("/volume", self.input_volume, type="volume")]
                ),
            )
            try:
                self.api.put_archive(helper["Id"], "/volume", tar)
            finally:
                self.api.remove_container(helper["Id"], force=True)

    def collect_output(self) -> str:
        zipper = OutputZip(max_bytes=self.run.limits.output_mb * MiB, max_zip_bytes=zip_limit())
        chunks, _stat = self.api.get_archive(self.container, "/output", chunk_size=MiB)
        try:
            with tarfile.open(fileobj=io.BufferedReader(_ChunkReader(iter(chunks))), mode="r|") as tar:
                for entry in tar:
                    # Entries are "output/<path>"; only regular files are shipped.
                    name = entry.name.partition("/")[2]
                    src = tar.extractfile(entry) if entry.isreg() and name else None
                    if src is not None:
                        zipper.add(name, src, entry.size)
        finally:
            try:
                chunks.close()
            except Exception:  # the archive stream of a remote engine; the output is already read
                logger.warning("executor: closing the output archive stream failed", exc_info=True)
        return zipper.finish()

    def cleanup(self) -> None:
        if self.input_volume:
            with contextlib.suppress(NotFound):
                self.api.remove_volume(self.input_volume, force=True)
