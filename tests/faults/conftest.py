"""One real network for the process-death scenarios (test_process_deaths.py): every node a real
process on the shared Postgres, Redis and Docker. Each scenario kills something and revives it, so
the next one starts from a healthy network (`healthy` waits for that)."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.localnet.network import LocalNetwork, NetworkConfig
from tests.e2e.conftest import _require_docker, fresh_prefix, running_network

# Short deadlines so a dead peer is noticed in seconds, not the production half-minute.
FAULT_ENV = {
    "VALIDATOR_STAGE_LEEWAY_S": "15",
    "LOG_LEVEL": "INFO",
}


@pytest.fixture(scope="module")
def fault_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    _require_docker()
    config = NetworkConfig(
        directory=Path(tmp_path_factory.mktemp("faults")),
        validators=1,
        miners=3,
        executors=4,  # 12 executors: 20 one-to-two-second jobs run in two waves
        port_base=None,
        db_prefix=fresh_prefix("faults"),
        celery=False,
        calibrate_runs=0,
        extra_env=FAULT_ENV,
    )
    with running_network(config, timeout=180) as net:
        yield net


@pytest.fixture(scope="module")
def fault_api(fault_network: LocalNetwork) -> Iterator[httpx.Client]:
    creds = fault_network.credentials
    headers = {"Authorization": f"Token {creds['api_token']}"}
    with httpx.Client(base_url=creds["facilitator_url"], headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def healthy(fault_network: LocalNetwork) -> LocalNetwork:
    """The network with every process running and every node ready again."""
    for node in fault_network.nodes:
        fault_network.revive(node.name)
    fault_network.wait_ready(timeout=120)
    return fault_network


def facilitator_db(net: LocalNetwork) -> str:
    return f"{net.config.db_prefix}_facilitator"
