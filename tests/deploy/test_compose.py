"""docker-compose.yml, exercised: `deploy/compose/up.sh` (what `make compose` runs) brings the whole
network up from the locally built images under a project name and host ports of this test's own,
a job goes through the facilitator's REST API to a miner's real container, and everything (volumes
too) is removed afterwards, whatever happened."""

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from deploy.localnet.ports import free_ports

ROOT = Path(__file__).resolve().parents[2]
JOB_IMAGE = "meshwork/job-python:3.11"
TERMINAL = {"completed", "failed", "timeout", "cancelled", "rejected"}
SERVICES = {
    "postgres", "redis", "init", "facilitator", "facilitator-celery", "facilitator-dht",
    "validator1", "validator1-http", "validator1-celery", "validator1-dht",
    "miner1", "miner1-celery", "miner1-dht", "miner2", "miner2-celery", "miner2-dht",
}  # fmt: skip
# Services with a Docker healthcheck: /readyz/ for the web processes, celery_alive for the workers.
HEALTHCHECKED = {
    "facilitator", "validator1-http", "miner1", "miner2",
    "facilitator-celery", "validator1-celery", "miner1-celery", "miner2-celery",
}  # fmt: skip


@dataclass
class Compose:
    env: dict[str, str]
    url: str

    def run(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker-compose", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
        )

    @property
    def project(self) -> str:
        return self.env["COMPOSE_PROJECT_NAME"]

    def volumes(self) -> list[str]:
        label = f"com.docker.compose.project={self.project}"
        return [v.name for v in docker.from_env().volumes.list(filters={"label": label})]

    def down(self) -> None:
        self.run("down", "--volumes", "--remove-orphans", "--timeout", "15", timeout=180, check=False)


@pytest.fixture(scope="module")
def compose() -> Iterator[Compose]:
    project = f"meshwork-test-{os.environ.get('MESHWORK_TEST_ID', 'main')}".lower()
    ports = free_ports(4)
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": project,
        "MESHWORK_COMPOSE_FACILITATOR_PORT": str(ports[0]),
        "MESHWORK_COMPOSE_VALIDATOR_PORT": str(ports[1]),
        "MESHWORK_COMPOSE_MINER1_PORT": str(ports[2]),
        "MESHWORK_COMPOSE_MINER2_PORT": str(ports[3]),
        "MESHWORK_COMPOSE_TIMEOUT": "360",
    }
    net = Compose(env=env, url=f"http://127.0.0.1:{ports[0]}")
    net.down()  # what an interrupted earlier run of this test id left
    try:
        up = subprocess.run(
            ["bash", "deploy/compose/up.sh"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=900
        )
        assert up.returncode == 0, f"compose up failed:\n{up.stdout[-3000:]}\n{up.stderr[-3000:]}"
        yield net
    finally:
        print(net.run("logs", "--no-color", "--tail", "15", check=False).stdout[-20000:])
        net.down()


@pytest.fixture(scope="module")
def credentials(compose: Compose) -> dict[str, Any]:
    done = compose.run("run", "--rm", "--no-deps", "-T", "--user", "0:0", "--entrypoint", "cat", "init",
                       "/state/credentials.json")  # fmt: skip
    return dict(json.loads(done.stdout))


@pytest.fixture(scope="module")
def api(compose: Compose, credentials: dict[str, Any]) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Token {credentials['api_token']}"}
    with httpx.Client(base_url=compose.url, headers=headers, timeout=30) as client:
        yield client


def _finished(api: httpx.Client, uuid: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = api.get(f"/api/v1/jobs/{uuid}/wait/", params={"timeout": 30}, timeout=45).json()
        if job["status"] in TERMINAL:
            return job
    raise AssertionError(f"job {uuid} not finished after {timeout:.0f}s: {job}")


def _hotkeys(credentials: dict[str, Any], role: str) -> set[str]:
    return {n["hotkey"] for n in credentials["nodes"] if n["role"] == role}


pytestmark = [pytest.mark.docker, pytest.mark.e2e, pytest.mark.timeout(1200)]


def test_every_service_of_the_network_runs_and_init_finished(compose: Compose) -> None:
    states = {}
    for container in docker.from_env().containers.list(
        all=True, filters={"label": f"com.docker.compose.project={compose.project}"}
    ):
        states[container.labels["com.docker.compose.service"]] = (container.status, container.attrs["State"])
    assert set(states) == SERVICES
    assert states["init"][0] == "exited"
    assert states["init"][1]["ExitCode"] == 0
    assert {name for name, (status, _) in states.items() if status != "running"} == {"init"}


def test_a_job_runs_through_the_facilitator_validator_and_a_miner_container(
    api: httpx.Client, credentials: dict[str, Any]
) -> None:
    submitted = api.post("/api/v1/jobs/", json={"image": JOB_IMAGE, "args": ["python3", "-c", "print(6 * 7)"]})
    assert submitted.status_code == 201, submitted.text

    done = _finished(api, submitted.json()["uuid"])

    assert done["status"] == "completed", done
    assert (done["exit_code"], done["stdout"]) == (0, "42\n")
    assert done["validator_hotkey"] in _hotkeys(credentials, "validator")
    assert done["miner_hotkey"] in _hotkeys(credentials, "miner")
    assert [h["status"] for h in done["status_history"]][-2:] == ["running", "completed"]


def test_a_failing_job_and_a_bad_request_are_reported_not_lost(compose: Compose, api: httpx.Client) -> None:
    failing = api.post("/api/v1/jobs/", json={"image": JOB_IMAGE, "args": ["python3", "-c", "raise SystemExit(3)"]})
    assert failing.status_code == 201, failing.text
    bad = api.post("/api/v1/jobs/", json={"image": JOB_IMAGE, "args": "not a list"})
    unauthenticated = httpx.get(f"{compose.url}/api/v1/jobs/")

    done = _finished(api, failing.json()["uuid"])

    assert (done["status"], done["exit_code"], done["failure"]["reason"]) == ("failed", 3, "nonzero_exit")
    assert bad.status_code == 400
    assert "args" in bad.json()
    assert unauthenticated.status_code in (401, 403)


def test_every_node_becomes_healthy_by_its_readiness_probe(compose: Compose, api: httpx.Client) -> None:
    label = f"com.docker.compose.project={compose.project}"
    health: dict[str, str] = {}
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        health = {
            c.labels["com.docker.compose.service"]: c.attrs["State"].get("Health", {}).get("Status", "none")
            for c in docker.from_env().containers.list(filters={"label": label})
        }
        if all(health.get(name) == "healthy" for name in HEALTHCHECKED):
            break
        time.sleep(3)
    assert {name: health.get(name) for name in HEALTHCHECKED} == dict.fromkeys(HEALTHCHECKED, "healthy")
    assert {name for name, status in health.items() if status != "none"} == HEALTHCHECKED | {"postgres", "redis"}
    ready = api.get("/readyz/")
    assert ready.status_code == 200, ready.text


def test_an_object_is_stored_on_both_miners_and_read_back(compose: Compose, api: httpx.Client) -> None:
    """Storage writes where the containers may (staging volume, the miners' share volumes, the
    validator's secret made by init): 1-of-2 here (docs/storage.md)."""
    data = os.urandom(100_000)
    stored = api.post("/api/v1/objects/", params={"name": "c.bin"}, content=data, timeout=120)
    assert stored.status_code == 201, stored.text
    assert {k: v for k, v in stored.json()["health"].items() if k != "verified_at"} == {
        "shares": 2, "needed": 1, "placed": 2,
    }  # fmt: skip
    read = api.get(f"/api/v1/objects/{stored.json()['id']}/content/", timeout=120)
    assert (read.status_code, read.content == data) == (200, True)


def test_down_removes_every_container_and_volume(compose: Compose) -> None:
    assert len(compose.volumes()) == 5  # pgdata, state, staging and the two miners' shares

    compose.down()

    label = f"com.docker.compose.project={compose.project}"
    assert docker.from_env().containers.list(all=True, filters={"label": label}) == []
    assert compose.volumes() == []
