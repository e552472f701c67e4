"""The whole network on the real subtensor runtime (spec 218 under Chopsticks): nodes registered
and staked by real extrinsics, admission decided by the synced metagraph."""

import tempfile
from pathlib import Path

import httpx
import psycopg
import pytest

from deploy.localnet.databases import database_url
from deploy.localnet.network import NetworkConfig
from deploy.localnet.subtensor import SPEC_NAME, fixtures_dir
from tests.e2e.conftest import JOB_IMAGE, _require_docker, fresh_prefix, running_network

pytestmark = [pytest.mark.e2e, pytest.mark.docker, pytest.mark.chopsticks]


@pytest.fixture(scope="module")
def subtensor_network():
    spec = fixtures_dir() / SPEC_NAME
    if not spec.exists():
        pytest.skip(f"needs the chain fixture {spec}")
    _require_docker()
    config = NetworkConfig(
        directory=Path(tempfile.mkdtemp(prefix="meshwork-subtensor-")),
        miners=2,
        executors=1,
        port_base=None,
        db_prefix=fresh_prefix("e2e_subtensor"),
        celery=False,
        calibrate_runs=0,
        chain="subtensor",
    )
    with running_network(config, timeout=180) as net:
        yield net


def test_a_job_runs_on_a_network_registered_on_the_real_runtime(subtensor_network):
    net = subtensor_network
    creds = net.credentials
    headers = {"Authorization": f"Token {creds['api_token']}"}
    with httpx.Client(base_url=creds["facilitator_url"], headers=headers, timeout=90) as api:
        job = api.post("/api/v1/jobs/", json={"image": JOB_IMAGE, "args": ["python3", "-c", "print('on chain')"]})
        assert job.status_code == 201
        done = api.get(f"/api/v1/jobs/{job.json()['uuid']}/wait/", params={"timeout": 60}).json()
    assert done["status"] == "completed"
    assert done["stdout"] == "on chain\n"
    miners = {n.hotkey.ss58 for n in net.nodes if n.role == "miner"}
    assert done["miner_hotkey"] in miners
    # The validator routed from the metagraph it synced from the chain: real UIDs, the override address.
    url = database_url(f"{net.config.db_prefix}_validator1").replace("postgres://", "postgresql://")
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT hotkey, uid, address FROM validator_miner WHERE is_active").fetchall()
    assert {r[0] for r in rows} == miners
    assert all(r[1] is not None and r[2].startswith("127.0.0.1:") for r in rows)
