"""Where a job's /volume and /output live, chosen per engine.

- `HostWorkspace` (engine on this host, and this process may mount): host directories bind-mounted;
  /output is a per-job tmpfs with a hard size limit. No extra Docker calls.
- `VolumeWorkspace` (any engine, e.g. tcp://): Docker volumes filled and read through the API;
  the /output limit is checked after the run only. See each module for why."""

from typing import IO, Protocol

import docker
from docker.types import Mount

from executor.runtime.engine import engine_shares_filesystem
from executor.runtime.mounts import tmpfs_supported
from executor.runtime.names import job_work_dir
from executor.runtime.workspace_host import HostWorkspace
from executor.runtime.workspace_volume import VolumeWorkspace
from protocol.messages.executor import ExecutorRun


class Workspace(Protocol):
    """Each method blocks (files, Docker API): the driver calls them in a thread."""

    def mounts(self) -> list[Mount]: ...

    def load_input(self, source: IO[bytes] | None) -> None:
        """Called after the container is created and before it starts."""

    def collect_output(self) -> str:
        """The zip of /output, base64 (or ""), after the container exited."""
        ...

    def cleanup(self) -> None:
        """After the container is removed (the driver logs what it raises)."""


def workspace_open(
    *, api: docker.APIClient, docker_url: str, run: ExecutorRun, owner: str, container: str
) -> Workspace:
    if engine_shares_filesystem(docker_url) and tmpfs_supported():
        return HostWorkspace.open(root=job_work_dir(job_uuid=run.job_uuid, owner=owner), run=run)
    return VolumeWorkspace.open(api=api, run=run, owner=owner, container=container)
