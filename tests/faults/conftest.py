"""One real network for the process-death scenarios (test_process_deaths.py): every node a real
process on the shared Postgres, Redis and Docker. Each scenario kills something and revives it, so
the next one starts from a healthy network (`healthy` waits for that)."""

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from deploy.localnet.databases import admin_dsn
from deploy.localnet.network import LocalNetwork, NetworkConfig
from tests.e2e.conftest import _require_docker, fresh_prefix, running_network
from tests.faults.harness import TERMINAL

# Deadlines short enough that a silent peer is given up in seconds (still long enough for twelve
# containers starting at once on a loaded machine).
FAULT_ENV = {
    "VALIDATOR_STAGE_LEEWAY_S": "20",
    # On a loaded machine a slow container start can miss a deadline before the kill adds its own
    # failure: more tries than production's 3, so a scenario tests recovery, not the machine.
    "VALIDATOR_MAX_ATTEMPTS": "5",
    # An interval charge every 2 s, so a job killed mid-run has charges its retry must refund.
    "VALIDATOR_RECEIPT_INTERVAL_S": "2",
    "LOG_LEVEL": "INFO",
}


@pytest.fixture(scope="module")
def fault_network() -> Iterator[LocalNetwork]:
    _require_docker()
    # Not under pytest's basetemp: other runs prune it, and the logs are what explains a failure.
    directory = Path(tempfile.gettempdir()) / f"meshwork-faults-{os.environ.get('MESHWORK_TEST_ID', 'main')}"
    shutil.rmtree(directory, ignore_errors=True)
    config = NetworkConfig(
        directory=directory,
        validators=1,
        miners=3,
        executors=4,  # 12 executors: 20 short jobs run in two waves
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
    """The network with every process running, every node ready again and no job in flight (so
    one scenario's stragglers never move the next one's balance)."""
    for node in fault_network.nodes:
        fault_network.revive(node.name)
    fault_network.wait_ready(timeout=120)
    deadline = time.monotonic() + 120
    while (left := jobs_in_flight(fault_network)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"{left} jobs of an earlier scenario still in flight"
    return fault_network


def facilitator_db(net: LocalNetwork) -> str:
    return f"{net.config.db_prefix}_facilitator"


def facilitator_query(net: LocalNetwork, query: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    dsn = admin_dsn().replace("dbname=postgres", f"dbname={facilitator_db(net)}")
    with psycopg.connect(dsn) as conn:
        return list(conn.execute(query, params).fetchall())


def jobs_in_flight(net: LocalNetwork) -> int:
    rows = facilitator_query(net, "SELECT COUNT(*) FROM facilitator_job WHERE NOT status = ANY(%s)", (list(TERMINAL),))
    return int(rows[0][0])
