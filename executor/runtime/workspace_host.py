"""Host workspace: for an engine on this machine. /volume and /output are host directories under
`EXECUTOR_WORK_DIR/<owner>/<job>/`, bind-mounted (/volume read-only).

/output is a tmpfs this process mounts per job, owned by the job's user, sized `output_mb` plus a
little slack: the kernel refuses writes past it (a hard limit; no disk fills up), the contents
outlive the container so they are read after it exits, and nothing costs a Docker call. Limits:
- needs mount(2), i.e. root: without it, the driver falls back to `VolumeWorkspace`;
- tmpfs pages are memory, charged to the writing container's memory cgroup;
- a job that fills the tmpfs (or writes more than `output_mb` into the slack) is reported as
  `output_too_large`; small files round up to 4 KiB pages, so the many-tiny-files case fills early;
- inodes are capped too (`nr_inodes`), so empty files cannot exhaust host memory."""

import contextlib
import logging
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from docker.types import Mount

from executor.runtime.failures import OutputTooLarge
from executor.runtime.mounts import mounts_under, tmpfs_mount, unmount
from executor.runtime.names import JOB_GID, JOB_UID
from executor.runtime.output import MAX_OUTPUT_ENTRIES, OutputZip, zip_limit
from executor.runtime.zip_safety import zip_check, zip_extract, zip_open
from protocol.messages.executor import ExecutorRun

logger = logging.getLogger(__name__)
MiB = 1024 * 1024
_SLACK_BYTES = 1 * MiB


def remove_tree(root: Path) -> None:
    """Unmounts whatever we mounted below `root`, then deletes it; logs instead of raising."""
    for mounted in mounts_under(root):
        with contextlib.suppress(OSError):
            unmount(mounted)
    if root.exists():
        shutil.rmtree(root, onerror=lambda _fn, path, _exc: logger.warning("cannot remove %s", path))


@dataclass
class HostWorkspace:
    root: Path
    output_bytes: int
    has_input: bool

    @property
    def volume(self) -> Path:
        return self.root / "volume"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @classmethod
    def open(cls, *, root: Path, run: ExecutorRun) -> "HostWorkspace":
        if root.exists():  # a previous attempt of this job on this host, torn down uncleanly
            remove_tree(root)
        workspace = cls(root=root, output_bytes=run.limits.output_mb * MiB, has_input=run.spec.input is not None)
        root.mkdir(parents=True, mode=0o700)
        try:
            workspace.volume.mkdir(mode=0o755)
            workspace.output.mkdir(mode=0o700)
            tmpfs_mount(
                workspace.output,
                size_bytes=workspace.output_bytes + _SLACK_BYTES,
                nr_inodes=MAX_OUTPUT_ENTRIES * 2,
                uid=JOB_UID,
                gid=JOB_GID,
            )
        except BaseException:
            remove_tree(root)  # the driver never saw this workspace, so it cannot clean it up
            raise
        return workspace

    def mounts(self) -> list[Mount]:
        mounts = [Mount("/output", str(self.output), type="bind")]
        if self.has_input:
            mounts.append(Mount("/volume", str(self.volume), type="bind", read_only=True))
        return mounts

    def load_input(self, source: IO[bytes] | None) -> None:
        if source is None:
            return
        limit = settings.EXECUTOR_MAX_INPUT_BYTES
        with zip_open(source) as zf:
            zip_extract(zf, zip_check(zf, max_bytes=limit), self.volume, max_bytes=limit)

    def collect_output(self) -> str:
        if os.statvfs(self.output).f_bavail == 0:
            raise OutputTooLarge(f"/output filled up: the limit is {self.output_bytes // MiB} MiB")
        zipper = OutputZip(max_bytes=self.output_bytes, max_zip_bytes=zip_limit())
        for dirpath, dirnames, filenames in os.walk(self.output):
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                info = os.lstat(path)
                if not stat.S_ISREG(info.st_mode):
                    continue
                # The container is gone, so nothing swaps the file for a link in between; still,
                # O_NOFOLLOW and O_NONBLOCK make sure we never follow a link or block on a FIFO.
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
                with os.fdopen(fd, "rb") as src:
                    zipper.add(str(path.relative_to(self.output)), src, info.st_size)
        return zipper.finish()

    def cleanup(self) -> None:
        remove_tree(self.root)
        # Owners come and go (a fresh hotkey per local network); an empty owner directory goes too.
        # Safe against a concurrent job of the same owner: rmdir refuses a non-empty directory, and
        # mkdir(parents=True) recreates a parent removed under it.
        with contextlib.suppress(OSError):
            self.root.parent.rmdir()
