"""Receipts, scores and weights on the local network as `make localnet` runs it, with two validators:
a job routed through one validator is paid in interval charges, and BOTH validators score it — the
other one only from the miner's receipts — and both validators' weights reach the local chain, with no
one acting."""

import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from deploy.localnet.databases import database_url
from deploy.localnet.network import LocalNetwork, NetworkConfig
from tests.e2e.conftest import JOB_IMAGE, fresh_prefix, running_network

pytestmark = [pytest.mark.e2e, pytest.mark.docker]
INTERVAL_S = 2


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    config = NetworkConfig(
        directory=Path(tmp_path_factory.mktemp("scorenet")),
        validators=2,
        miners=2,
        executors=2,
        port_base=None,
        db_prefix=fresh_prefix("e2e_score"),
        cycle_s=40,
        calibrate_runs=1,
        extra_env={"LOG_LEVEL": "INFO", "VALIDATOR_RECEIPT_INTERVAL_S": str(INTERVAL_S)},
    )
    with running_network(config, timeout=150, tail=25) as net:
        yield net


def _rows(net: LocalNetwork, database: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url(f"{net.config.db_prefix}_{database}"), autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())


def _credited(client: httpx.Client, miner: str) -> tuple[float, list[dict[str, Any]]]:
    """Organic seconds credited to `miner` over every finished cycle, and the cycles."""
    cycles = client.get("/api/v1/cycles/").json()["results"]
    seconds = 0.0
    for cycle in cycles:
        for entry in cycle["miners"]:
            if entry["hotkey"] == miner:
                seconds += sum(c["organic_seconds"] for c in entry["classes"])
    return seconds, cycles


def test_both_validators_score_the_job_and_set_weights(scored: LocalNetwork) -> None:
    creds = scored.credentials
    headers = {"Authorization": f"Token {creds['api_token']}"}
    with httpx.Client(base_url=creds["facilitator_url"], headers=headers, timeout=30) as api:
        job = _run_job(api)
    _check_billing_and_scores(scored, job)


def _run_job(api: httpx.Client) -> dict[str, Any]:
    body = {"image": JOB_IMAGE, "args": ["python3", "-c", "import time; time.sleep(7)"], "timeout_s": 60}
    response = api.post("/api/v1/jobs/", json=body)
    assert response.status_code == 201, response.text
    uuid = response.json()["uuid"]
    deadline = time.monotonic() + 120
    while (job := api.get(f"/api/v1/jobs/{uuid}/").json())["status"] not in {"completed", "failed", "rejected"}:
        assert time.monotonic() < deadline, job
        time.sleep(1)
    assert job["status"] == "completed", job
    assert float(job["executor_seconds"] or 0) >= 7
    return dict(job)


def _check_billing_and_scores(scored: LocalNetwork, job: dict[str, Any]) -> None:
    uuid, seconds = job["uuid"], float(job["executor_seconds"])

    # Billing: the interval charges and the final one add up to the job's cost exactly.
    charges = _rows(
        scored, "facilitator", "SELECT kind, amount FROM facilitator_credittransaction WHERE job_id = %s", uuid
    )
    intervals = [amount for kind, amount in charges if kind == "interval"]
    assert len(intervals) >= 2, charges
    net = sum((amount for kind, amount in charges if kind != "grant"), Decimal(0))  # refunds are negative
    assert net == Decimal(job["cost"]), (charges, job["cost"])

    validators = [n for n in scored.nodes if n.role == "validator"]
    router = next(n for n in validators if n.hotkey.ss58 == job["validator_hotkey"])
    other = next(n for n in validators if n is not router)
    miner = job["miner_hotkey"]
    deadline = time.monotonic() + 240
    credited: dict[str, float] = {}
    while time.monotonic() < deadline:
        for node in validators:
            with httpx.Client(base_url=node.url, timeout=10) as client:
                credited[node.name], _cycles = _credited(client, miner)
        if all(abs(v - seconds) <= 0.05 * seconds for v in credited.values()):
            break
        time.sleep(3)
    else:
        pytest.fail(f"the job's {seconds}s not credited by both validators: {credited}")
    assert credited[other.name] > 0  # it never ran the job: its score comes from the miner's receipts

    # Weights: each validator's reached the local chain (committed, then revealed) on its own.
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        on_chain = {
            hotkey for (hotkey,) in _rows(scored, "chain", "SELECT DISTINCT validator_hotkey FROM chain_localweights")
        }
        if {n.hotkey.ss58 for n in validators} <= on_chain:
            break
        time.sleep(3)
    else:
        pytest.fail(f"weights of both validators not on the local chain: {on_chain}")
    with httpx.Client(base_url=other.url, timeout=10) as client:
        cycles = client.get("/api/v1/cycles/").json()["results"]
    # The newest cycle may be scored but not yet submitted (pending); the ones before reached the chain.
    statuses = [c["weights"]["status"] for c in cycles]
    assert {"committed", "revealed", "set"} & set(statuses), statuses
    miners = {n.hotkey.ss58 for n in scored.nodes if n.role == "miner"}
    assert all(set(c["weights"]["values"]) <= miners for c in cycles)
