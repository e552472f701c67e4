"""The sweep removes exactly one owner's leftovers: containers, volumes, a rental's network (with a
container still on it, as a miner killed mid-rental leaves it), job directories and their tmpfs
mounts."""

import uuid

import docker
import pytest

from executor.runtime.mounts import mounts_under, tmpfs_mount
from executor.runtime.names import LABEL_JOB, LABEL_OWNER, job_work_dir, owner_work_dir
from executor.runtime.sweep import executor_sweep_leftovers, executor_sweep_leftovers_async
from tests.executor.runtime.job_runs import JOB_IMAGE

pytestmark = pytest.mark.docker


def _leftovers(client: docker.DockerClient, owner: str) -> list[str]:
    labels = {LABEL_JOB: "00000000-0000-0000-0000-000000000000", LABEL_OWNER: owner}
    network = client.networks.create(f"meshwork-test-{uuid.uuid4().hex[:12]}-net", labels=labels)
    running = client.containers.run(JOB_IMAGE, ["sleep", "60"], labels=labels, network=network.name, detach=True)
    created = client.containers.create(JOB_IMAGE, ["true"], labels=labels, network_mode="none")
    client.volumes.create(labels=labels)
    return [running.id, created.id]


def _owned(client: docker.DockerClient, owner: str) -> tuple[list[str], list[str], list[str]]:
    owned = {"label": f"{LABEL_OWNER}={owner}"}
    containers = [c.id for c in client.containers.list(all=True, filters=owned)]
    volumes = [v.name for v in client.volumes.list(filters=owned)]
    networks = [n.name for n in client.networks.list(filters=owned)]
    return containers, volumes, networks


async def test_sweep_removes_the_owners_leftovers_only(docker_client: docker.DockerClient, owner: str) -> None:
    other = f"{owner}-other"
    _leftovers(docker_client, owner)
    others = _leftovers(docker_client, other)
    job_dir = job_work_dir(job_uuid=uuid.uuid4(), owner=owner)
    (job_dir / "output").mkdir(parents=True)
    tmpfs_mount(job_dir / "output", size_bytes=4096, nr_inodes=16, uid=0, gid=0)
    try:
        assert await executor_sweep_leftovers_async(docker_url="local", owner=owner) == 2
        assert _owned(docker_client, owner) == ([], [], [])
        assert not owner_work_dir(owner).exists()
        assert mounts_under(owner_work_dir(owner)) == []
        containers, volumes, networks = _owned(docker_client, other)
        assert sorted(containers) == sorted(others)
        assert (len(volumes), len(networks)) == (1, 1)
    finally:
        assert executor_sweep_leftovers(docker_url="local", owner=other) == 2
    assert _owned(docker_client, other) == ([], [], [])


def test_sweeping_nothing_is_fine(docker_client: docker.DockerClient, owner: str) -> None:
    assert executor_sweep_leftovers(docker_url="local", owner=owner) == 0
