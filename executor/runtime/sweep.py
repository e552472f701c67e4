"""Removing what crashed executors left behind: containers, volumes and networks labelled with the owner on
the engine, and the owner's job directories (and their tmpfs mounts) on this host.

Call it at miner startup, before any job of that owner runs: it removes running jobs too."""

import contextlib
import logging

import docker
from docker.errors import NotFound

from executor.runtime.engine import docker_api, engine_shares_filesystem, in_thread
from executor.runtime.names import LABEL_OWNER, owner_work_dir
from executor.runtime.workspace_host import remove_tree

logger = logging.getLogger(__name__)


def executor_sweep_leftovers(*, docker_url: str, owner: str) -> int:
    """Returns how many containers it removed. Blocking (a startup step); from a coroutine use
    `executor_sweep_leftovers_async`."""
    api: docker.APIClient = docker_api(docker_url)
    owned = {"label": f"{LABEL_OWNER}={owner}"}
    containers = api.containers(all=True, filters=owned)
    for container in containers:
        with contextlib.suppress(NotFound):
            api.remove_container(container["Id"], v=True, force=True)
    for volume in api.volumes(filters=owned).get("Volumes") or []:
        with contextlib.suppress(NotFound):
            api.remove_volume(volume["Name"], force=True)
    for network in api.networks(filters=owned):  # rentals' networks (executor/runtime/rental_pod.py)
        with contextlib.suppress(NotFound):
            api.remove_network(network["Id"])
    if engine_shares_filesystem(docker_url):
        remove_tree(owner_work_dir(owner))
    if containers:
        logger.info("swept %d leftover job containers of %s on %s", len(containers), owner, docker_url)
    return len(containers)


async def executor_sweep_leftovers_async(*, docker_url: str, owner: str) -> int:
    return await in_thread(executor_sweep_leftovers, docker_url=docker_url, owner=owner)
