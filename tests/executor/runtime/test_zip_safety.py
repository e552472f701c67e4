"""Zip safety without Docker: what is refused, and what a good archive unpacks to."""

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from executor.runtime.failures import InputInvalid
from executor.runtime.zip_safety import zip_check, zip_extract, zip_open, zip_to_tar
from protocol.messages.common import FailureReason
from tests.executor.runtime.job_runs import zip_bytes

LIMIT = 1024 * 1024


def _open(data: bytes) -> zipfile.ZipFile:
    return zip_open(io.BytesIO(data))


def _with_entry(info: zipfile.ZipInfo, content: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(info, content)
    return buffer.getvalue()


def _symlink_entry(name: str, target: str) -> bytes:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return _with_entry(info, target.encode())


def _refused(data: bytes, **limits: int) -> str:
    with pytest.raises(InputInvalid) as caught, _open(data) as zf:
        zip_check(zf, max_bytes=limits.get("max_bytes", LIMIT), max_entries=limits.get("max_entries", 100))
    assert caught.value.reason is FailureReason.INPUT_INVALID
    return caught.value.detail


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../evil.txt", "path traversal"),
        ("a/../../evil.txt", "path traversal"),
        ("/etc/passwd", "absolute path"),
        ("C:/windows/evil", "absolute path"),
        ("a\\..\\evil", "backslash"),
    ],
)
def test_bad_names_are_refused(name: str, why: str) -> None:
    assert why in _refused(zip_bytes({name: "x"}))


def test_symlinks_are_refused() -> None:
    assert "symlink" in _refused(_symlink_entry("link", "/etc/passwd"))


def test_too_many_entries_are_refused() -> None:
    detail = _refused(zip_bytes({f"f{i}": "x" for i in range(11)}), max_entries=10)
    assert detail == "zip has 11 entries; the limit is 10"


def test_a_bomb_is_refused_before_anything_is_written() -> None:
    bomb = zip_bytes({"zeros": b"\0" * (2 * LIMIT)})
    assert len(bomb) < 10_000
    assert _refused(bomb) == f"zip unpacks to {2 * LIMIT} bytes; the limit is {LIMIT}"


def test_name_clashes_are_refused() -> None:
    assert "both a file and a directory" in _refused(zip_bytes({"a": "file", "a/b": "nested"}))
    duplicate = io.BytesIO()
    with zipfile.ZipFile(duplicate, "w") as zf:
        zf.writestr("same", "1")
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("same", "2")
    assert "appears twice" in _refused(duplicate.getvalue())


def test_not_a_zip_is_invalid() -> None:
    with pytest.raises(InputInvalid, match="corrupt zip"):
        _open(b"this is not a zip at all")


def test_an_entry_lying_about_its_size_is_invalid(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"f": b"a" * 1000}, compression=zipfile.ZIP_STORED))
    # Claim 10 bytes in both headers: zipfile reads 10, then the CRC no longer matches.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(signature) + offset
        data[at : at + 4] = (10).to_bytes(4, "little")
    with _open(bytes(data)) as zf, pytest.raises(InputInvalid, match="corrupt zip"):
        zip_extract(zf, zip_check(zf, max_bytes=LIMIT), tmp_path, max_bytes=LIMIT)


def test_extract_writes_world_readable_files_and_keeps_the_exec_bit(tmp_path: Path) -> None:
    script = zipfile.ZipInfo("bin/run.sh")
    script.create_system = 3
    script.external_attr = (stat.S_IFREG | 0o700) << 16
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("data/hello.txt", "hello")
        zf.writestr("empty/", "")
        zf.writestr(script, "#!/bin/sh\necho hi\n")
    with _open(buffer.getvalue()) as zf:
        zip_extract(zf, zip_check(zf, max_bytes=LIMIT), tmp_path, max_bytes=LIMIT)
    assert (tmp_path / "data/hello.txt").read_text() == "hello"
    assert stat.S_IMODE((tmp_path / "data/hello.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "bin/run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o755
    assert (tmp_path / "empty").is_dir()


def test_to_tar_carries_the_same_files() -> None:
    out = io.BytesIO()
    with _open(zip_bytes({"a/b.txt": "bee", "c.txt": "sea"})) as zf:
        zip_to_tar(zf, zip_check(zf, max_bytes=LIMIT), out, max_bytes=LIMIT)
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        contents = {m.name: (tar.extractfile(m).read(), m.mode, m.uid) for m in tar.getmembers()}  # type: ignore[union-attr]
    assert contents == {"a/b.txt": (b"bee", 0o644, 0), "c.txt": (b"sea", 0o644, 0)}
