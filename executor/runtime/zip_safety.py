"""Unpacking untrusted zips (job inputs) without letting them escape or explode.

`zip_check` validates the whole archive before a single byte is written: entry count, total
declared size, names (no absolute paths, drive letters, `..`, backslashes, NULs), entry types (no
symlinks, devices or FIFOs), encryption, and name clashes. Writers then copy at most the declared
size of each entry (zipfile stops there and checks the CRC), and count again to be sure."""

import contextlib
import os
import stat
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from executor.runtime.failures import InputInvalid

MAX_ENTRIES = 10_000
MAX_PATH_BYTES = 1024
MAX_COMPONENT_BYTES = 255
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SafeMember:
    info: zipfile.ZipInfo
    path: str
    is_dir: bool
    executable: bool


@contextlib.contextmanager
def _invalid_on_corruption() -> Iterator[None]:
    """A corrupt archive is the job's fault, whichever layer notices it."""
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise InputInvalid(f"corrupt zip: {exc}") from exc


def zip_open(source: IO[bytes]) -> zipfile.ZipFile:
    with _invalid_on_corruption():
        return zipfile.ZipFile(source)


def zip_check(zf: zipfile.ZipFile, *, max_bytes: int, max_entries: int = MAX_ENTRIES) -> list[SafeMember]:
    infos = zf.infolist()
    if len(infos) > max_entries:
        raise InputInvalid(f"zip has {len(infos)} entries; the limit is {max_entries}")
    total = sum(info.file_size for info in infos)
    if total > max_bytes:
        raise InputInvalid(f"zip unpacks to {total} bytes; the limit is {max_bytes}")
    members = [_member(info) for info in infos]
    _check_clashes(members)
    return members


def _member(info: zipfile.ZipInfo) -> SafeMember:
    if info.flag_bits & 0x1:
        raise InputInvalid(f"{info.filename!r}: encrypted entries are not supported")
    mode = info.external_attr >> 16 if info.create_system == 3 else 0
    kind = stat.S_IFMT(mode)
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        what = "a symlink" if kind == stat.S_IFLNK else "not a regular file or directory"
        raise InputInvalid(f"{info.filename!r} is {what}")
    is_dir = info.is_dir() or kind == stat.S_IFDIR
    return SafeMember(info=info, path=_safe_path(info.filename), is_dir=is_dir, executable=bool(mode & 0o111))


def _safe_path(name: str) -> str:
    if "\x00" in name or "\\" in name:
        raise InputInvalid(f"{name!r}: NUL or backslash in an entry name")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise InputInvalid(f"{name!r}: absolute path")
    parts = [part for part in PurePosixPath(name).parts if part != "."]
    if ".." in parts:
        raise InputInvalid(f"{name!r}: path traversal")
    if not parts:
        raise InputInvalid(f"{name!r}: empty entry name")
    path = "/".join(parts)
    if len(path.encode()) > MAX_PATH_BYTES or any(len(p.encode()) > MAX_COMPONENT_BYTES for p in parts):
        raise InputInvalid(f"{name[:80]!r}...: entry name too long")
    return path


def _check_clashes(members: list[SafeMember]) -> None:
    files: set[str] = set()
    dirs: set[str] = set()
    for member in members:
        parents = PurePosixPath(member.path).parents
        dirs.update(str(p) for p in parents if str(p) != ".")
        if member.is_dir:
            dirs.add(member.path)
        elif member.path in files:
            raise InputInvalid(f"{member.path!r} appears twice")
        else:
            files.add(member.path)
    if clash := files & dirs:
        raise InputInvalid(f"{sorted(clash)[0]!r} is both a file and a directory")


def _copy(src: IO[bytes], dst: IO[bytes], budget: int) -> int:
    copied = 0
    while chunk := src.read(_CHUNK):
        copied += len(chunk)
        if copied > budget:
            raise InputInvalid("zip unpacks to more than it declares")
        dst.write(chunk)
    return copied


def zip_extract(zf: zipfile.ZipFile, members: list[SafeMember], dest: Path, *, max_bytes: int) -> None:
    """Writes into `dest` (which must exist) world-readable, whatever the umask: the job runs as nobody."""
    budget = max_bytes
    for member in members:
        target = dest / member.path
        if member.is_dir:
            target.mkdir(parents=True, exist_ok=True)
            target.chmod(0o755)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = 0o755 if member.executable else 0o644
        # O_EXCL | O_NOFOLLOW: never write through anything already at that path.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as dst, _invalid_on_corruption(), zf.open(member.info) as src:
            budget -= _copy(src, dst, budget)
    for directory in [dest, *{p for p in dest.rglob("*") if p.is_dir()}]:
        directory.chmod(0o755)


def zip_to_tar(zf: zipfile.ZipFile, members: list[SafeMember], out: IO[bytes], *, max_bytes: int) -> None:
    """The same files as a tar stream, for engines reached over the API only (`put_archive`)."""
    budget = max_bytes
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            entry = tarfile.TarInfo(member.path)
            entry.mtime = int(time.time())
            if member.is_dir:
                entry.type, entry.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(entry)
                continue
            entry.size, entry.mode = member.info.file_size, 0o755 if member.executable else 0o644
            budget -= entry.size
            if budget < 0:
                raise InputInvalid("zip unpacks to more than it declares")
            with _invalid_on_corruption(), zf.open(member.info) as src:
                tar.addfile(entry, _Exact(src, entry.size))


class _Exact:
    """Reads exactly `size` bytes: an entry shorter than it declares (crafted, CRC intact) would
    otherwise surface from tarfile as a bare OSError, indistinguishable from a disk error."""

    def __init__(self, src: IO[bytes], size: int) -> None:
        self._src = src
        self._left = size

    def read(self, n: int = -1) -> bytes:
        want = self._left if n < 0 else min(n, self._left)
        data = self._src.read(want)
        if len(data) < want:
            raise InputInvalid("zip entry is shorter than it declares")
        self._left -= len(data)
        return data
