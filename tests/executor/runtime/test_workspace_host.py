"""The host workspace on its own: the tmpfs /output and what a crashed attempt leaves behind."""

import os
from pathlib import Path

import pytest

from executor.runtime.mounts import mounts_under, tmpfs_supported
from executor.runtime.workspace_host import HostWorkspace
from tests.executor.runtime.job_runs import python_run


@pytest.fixture(autouse=True)
def _can_mount() -> None:
    if not tmpfs_supported():
        pytest.skip("the host workspace mounts a tmpfs, which needs root (CAP_SYS_ADMIN)")


def test_output_is_a_tmpfs_owned_by_nobody_and_sized_to_the_class(tmp_path: Path) -> None:
    workspace = HostWorkspace.open(root=tmp_path / "job", run=python_run("pass", output_mb=2))
    try:
        assert mounts_under(tmp_path) == [workspace.output]
        info, fs = os.stat(workspace.output), os.statvfs(workspace.output)
        assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (65534, 65534, 0o700)
        assert fs.f_blocks * fs.f_frsize == 3 * 1024 * 1024  # 2 MiB + 1 MiB of slack
    finally:
        workspace.cleanup()
    assert mounts_under(tmp_path) == []
    assert not (tmp_path / "job").exists()


def test_a_previous_attempts_leftovers_are_cleared(tmp_path: Path) -> None:
    run = python_run("pass")
    stale = HostWorkspace.open(root=tmp_path / "job", run=run)
    (stale.volume / "stale").write_text("old")
    fresh = HostWorkspace.open(root=tmp_path / "job", run=run)
    try:
        assert list(fresh.volume.iterdir()) == []
        assert mounts_under(tmp_path) == [fresh.output]
    finally:
        fresh.cleanup()
    assert mounts_under(tmp_path) == []
