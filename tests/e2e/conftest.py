"""A real local network for end-to-end tests: every node a real process on real sockets, with
real Postgres, Redis and Docker. One network per test session (it takes seconds to start)."""

import contextlib
import io
import os
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from deploy.localnet.databases import drop_databases, existing_databases
from deploy.localnet.network import LocalNetwork, NetworkConfig

JOB_IMAGE = "meshwork/job-python:3.11"
TERMINAL = {"completed", "failed", "timeout", "cancelled", "rejected"}


def _require_docker() -> None:
    try:
        client = docker.from_env()
        client.ping()
        client.images.get(JOB_IMAGE)
    except Exception as exc:
        pytest.fail(f"end-to-end tests need a Docker engine and {JOB_IMAGE} (run `make images`): {exc}")


def fresh_prefix(name: str) -> str:
    """A database prefix of this test id's own, with what an earlier run left dropped."""
    prefix = f"meshwork_{name}_{os.environ.get('MESHWORK_TEST_ID', 'main')}"
    drop_databases(sorted(existing_databases(prefix + "_")))
    return prefix


@contextlib.contextmanager
def running_network(config: NetworkConfig, *, timeout: float, tail: int = 15) -> Iterator[LocalNetwork]:
    """Prepares, starts and waits for a network; stops it afterwards, printing each process's last
    lines (pytest shows them when a test failed)."""
    net = LocalNetwork(config)
    try:
        net.prepare()
        net.start()
        net.wait_ready(timeout=timeout)
        yield net
    finally:
        net.stop()
        for proc in net.procs:
            print(f"---- {proc.name} (last lines)\n{proc.tail(tail)}")


@pytest.fixture(scope="session")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    _require_docker()
    config = NetworkConfig(
        directory=Path(tmp_path_factory.mktemp("localnet")),
        validators=1,
        miners=3,
        executors=2,
        port_base=None,
        db_prefix=fresh_prefix("e2e"),
        celery=False,
        calibrate_runs=0,  # no beat, no benchmark cycles: keep the seeded classes
        # Rentals (test_rentals.py): short ones, and their banner read often.
        extra_env={
            "VALIDATOR_STAGE_LEEWAY_S": "15",
            "LOG_LEVEL": "INFO",
            "RENTAL_MIN_SECONDS": "5",
            "RENTAL_CHECK_INTERVAL_S": "2",
            "RENTAL_CHECK_TIMEOUT_S": "2",
        },
    )
    with running_network(config, timeout=120) as net:
        yield net


@pytest.fixture(scope="session")
def api(network: LocalNetwork) -> Iterator[httpx.Client]:
    creds = network.credentials
    with httpx.Client(
        base_url=creds["facilitator_url"], headers={"Authorization": f"Token {creds['api_token']}"}, timeout=30
    ) as client:
        yield client


def submit(api: httpx.Client, **body: Any) -> dict[str, Any]:
    body.setdefault("image", JOB_IMAGE)
    response = api.post("/api/v1/jobs/", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def wait_for(api: httpx.Client, uuid: str, statuses: set[str] = TERMINAL, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    if statuses == TERMINAL:  # the long-poll endpoint wakes on the job's end
        while time.monotonic() < deadline:
            job = api.get(f"/api/v1/jobs/{uuid}/wait/", params={"timeout": 30}, timeout=40).json()
            if job["status"] in TERMINAL:
                return dict(job)
        raise AssertionError(f"job {uuid} not finished after {timeout}s: {job}")
    while time.monotonic() < deadline:
        job = api.get(f"/api/v1/jobs/{uuid}/").json()
        if job["status"] in statuses:
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"job {uuid} not in {statuses} after {timeout}s: {job}")


def balance(api: httpx.Client) -> tuple[float, float]:
    account = api.get("/api/v1/account/").json()
    return float(account["balance"]), float(account["held"])


def make_zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def job_containers(job_uuid: str) -> list[Any]:
    return list(docker.from_env().containers.list(all=True, filters={"label": f"meshwork.job={job_uuid}"}))
