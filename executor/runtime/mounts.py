"""tmpfs mounts on this host via mount(2): a syscall through ctypes costs microseconds, where
running /bin/mount costs a fork and exec per job. Needs root (CAP_SYS_ADMIN); see
`tmpfs_supported`."""

import ctypes
import functools
import os
import tempfile
from pathlib import Path

from django.conf import settings

MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MNT_DETACH = 2
# Shows as the source in /proc/self/mountinfo, so leftovers are recognisable.
MOUNT_SOURCE = "meshwork-output"

_libc = ctypes.CDLL(None, use_errno=True)


def _raise_errno(path: Path) -> None:
    errno = ctypes.get_errno()
    raise OSError(errno, os.strerror(errno), str(path))


def tmpfs_mount(target: Path, *, size_bytes: int, nr_inodes: int, uid: int, gid: int) -> None:
    options = f"size={size_bytes},nr_inodes={nr_inodes},mode=0700,uid={uid},gid={gid}"
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    if _libc.mount(MOUNT_SOURCE.encode(), os.fsencode(target), b"tmpfs", flags, options.encode()) != 0:
        _raise_errno(target)


def unmount(target: Path) -> None:
    # Lazy: a straggling reader must not keep the mount (and its memory) alive.
    if _libc.umount2(os.fsencode(target), MNT_DETACH) != 0:
        _raise_errno(target)


def mounts_under(root: Path) -> list[Path]:
    """Our tmpfs mounts below `root`, deepest first (from /proc/self/mountinfo)."""
    found = []
    prefix = str(root).rstrip("/") + "/"
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            fields = line.split()
            point, source = fields[4], fields[-2]
            if point.startswith(prefix) and source == MOUNT_SOURCE:
                found.append(Path(point.replace("\\040", " ")))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


@functools.cache
def tmpfs_supported() -> bool:
    """Whether this process may mount (probed once). Without it, jobs use Docker volumes instead."""
    try:
        Path(settings.EXECUTOR_WORK_DIR).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=settings.EXECUTOR_WORK_DIR, prefix="probe-") as probe:
            tmpfs_mount(Path(probe), size_bytes=4096, nr_inodes=16, uid=os.getuid(), gid=os.getgid())
            unmount(Path(probe))
    except OSError:
        return False
    return True
