"""A rental's machine on one engine (docs/rentals.md): three objects, all labelled with the owner
so the start-up sweep removes what a dead miner left.

- a bridge network of its own (no other container on it);
- the *fence*: a tiny container that owns the network namespace and the one published port, sets
  the namespace's firewall (inbound: only the SSH port; outbound: nothing to private, loopback,
  link-local or this host's addresses, no IPv6) and then sleeps. Only it has NET_ADMIN;
- the *machine*: the user's container, joined to the fence's namespace after the rules exist, with
  the class's limits, a read-only root, fresh tmpfs home, and sshd accepting only the user's key.

Blocking calls (docker-py): run them in the Docker pool (`in_thread`)."""

import contextlib
import ipaddress
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import docker
import psutil
from docker.errors import APIError, NotFound

from executor.runtime.container import MiB, gpu_device_requests
from executor.runtime.names import container_name, job_labels
from executor.runtime.rental_scripts import FENCE_SCRIPT, MACHINE_SCRIPT, SSH_PORT
from protocol.messages.executor import ExecutorRun

# What a rental may never reach: private, shared, loopback, link-local, benchmark, multicast and
# reserved IPv4 ranges (RFC 6890), and every address of the engine's host (added at run time).
BLOCKED_RANGES = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
)  # fmt: skip
# sshd runs as root inside to switch to the user; it needs these and nothing else.
MACHINE_CAPS = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "SYS_CHROOT", "KILL", "AUDIT_WRITE"]
FENCE_DEADLINE_S = 20.0
HOME_MIN_MB = 16
TMP_MB = 64


class PodFailure(Exception):
    """The machine could not be set up; the detail says which step."""


@dataclass
class RentalPod:
    network: str
    fence: str
    machine: str
    host_port: int = 0


def pod_names(*, job_uuid: UUID, owner: str) -> RentalPod:
    base = container_name(job_uuid=job_uuid, owner=owner)
    return RentalPod(network=f"{base}-net", fence=f"{base}-fence", machine=base)


def blocked_networks(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The ranges above plus this host's own IPv4 addresses (a public one is not in a range)."""
    own = {
        f"{a.address}/32"
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family.name == "AF_INET" and not ipaddress.ip_address(a.address).is_loopback
    }
    return [*BLOCKED_RANGES, *sorted(own), *extra]


def pod_create(*, api: docker.APIClient, run: ExecutorRun, owner: str, bind_ip: str, blocked: list[str]) -> RentalPod:
    """Network, fence (rules in place, port published), machine started: the pod, with its host port."""
    assert run.spec.rental is not None
    pod = pod_names(job_uuid=run.job_uuid, owner=owner)
    labels = job_labels(job_uuid=run.job_uuid, owner=owner)
    api.create_network(
        pod.network, driver="bridge", labels=labels, options={"com.docker.network.bridge.enable_icc": "false"}
    )
    fence_config = api.create_host_config(
        network_mode=pod.network,
        port_bindings={SSH_PORT: (bind_ip, None)},
        cap_drop=["ALL"],
        cap_add=["NET_ADMIN"],
        security_opt=["no-new-privileges"],
        read_only=True,
        mem_limit=32 * MiB,
        pids_limit=16,
        log_config={"type": "json-file", "config": {"max-size": "64k", "max-file": "1"}},
    )
    api.create_container(
        image=run.spec.image,
        name=pod.fence,
        command=["sh", "-c", FENCE_SCRIPT],
        environment={"MESHWORK_BLOCKED": " ".join(blocked)},
        ports=[SSH_PORT],
        labels=labels,
        host_config=fence_config,
    )
    api.start(pod.fence)
    _fence_wait(api, pod.fence)
    pod.host_port = int(api.port(pod.fence, SSH_PORT)[0]["HostPort"])
    api.create_container(**_machine_kwargs(api, run, pod, labels))
    api.start(pod.machine)
    return pod


def _machine_kwargs(api: docker.APIClient, run: ExecutorRun, pod: RentalPod, labels: dict[str, str]) -> dict[str, Any]:
    limits, rental = run.limits, run.spec.rental
    assert rental is not None
    home_mb = max(HOME_MIN_MB, limits.memory_mb // 2)  # tmpfs counts against the memory limit
    host_config = api.create_host_config(
        network_mode=f"container:{pod.fence}",
        read_only=True,
        cap_drop=["ALL"],
        cap_add=MACHINE_CAPS,
        security_opt=["no-new-privileges"],
        nano_cpus=round(limits.cpus * 1e9),
        mem_limit=limits.memory_mb * MiB,
        memswap_limit=limits.memory_mb * MiB,
        pids_limit=limits.pids,
        tmpfs={
            "/run": "rw,nosuid,nodev,size=16m,mode=755",
            "/tmp": f"rw,nosuid,nodev,size={TMP_MB}m,mode=1777",
            "/home/meshwork": f"rw,nosuid,nodev,size={home_mb}m,uid=1000,gid=1000,mode=700",
        },
        ipc_mode="private",
        log_config={"type": "json-file", "config": {"max-size": "256k", "max-file": "1"}},
        device_requests=gpu_device_requests(limits.gpu_count),
    )
    return {
        "image": run.spec.image,
        "name": pod.machine,
        "command": ["sh", "-c", MACHINE_SCRIPT],
        "environment": {"MESHWORK_SSH_KEY": rental.ssh_public_key},
        "labels": labels,
        "host_config": host_config,
    }


def _fence_wait(api: docker.APIClient, fence: str) -> None:
    deadline = time.monotonic() + FENCE_DEADLINE_S
    while time.monotonic() < deadline:
        logs = api.logs(fence, stdout=True, stderr=True).decode(errors="replace")
        if "fenced" in logs.split():
            return
        if not api.inspect_container(fence)["State"]["Running"]:
            raise PodFailure(f"the fence exited before its rules were set: {logs[-500:]}")
        time.sleep(0.1)
    raise PodFailure(f"the fence set no rules within {FENCE_DEADLINE_S:.0f} s")


def pod_running(api: docker.APIClient, pod: RentalPod) -> bool:
    try:
        return all(api.inspect_container(name)["State"]["Running"] for name in (pod.fence, pod.machine))
    except NotFound:
        return False


def pod_remove(api: docker.APIClient, pod: RentalPod) -> None:
    """Machine, fence, network: all of it, whatever exists (idempotent)."""
    for name in (pod.machine, pod.fence):
        with contextlib.suppress(NotFound):
            api.remove_container(name, v=True, force=True)
    with contextlib.suppress(NotFound):
        try:
            api.remove_network(pod.network)
        except APIError as exc:
            if exc.status_code != 409:  # still in use: a container being removed; the sweep ends it
                raise
