"""A miner holding a share is killed (SIGKILL): the object still reads byte-identical from the
others, the validator's audit notices, and its repair rebuilds the share on the third miner; the
object's health on the facilitator says so (docs/storage.md, "Repair")."""

import json
import os
import time

import psycopg
import pytest

from deploy.localnet.sizing import manage_checked
from tests.faults.harness import Faults
from tests.faults.report import facilitator_dsn

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.docker]


def _holders(faults: Faults, object_id: str) -> list[str]:
    net = faults.net
    dsn = facilitator_dsn(f"{net.config.db_prefix}_validator1", port=net.config.postgres_port)
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT m.hotkey FROM validator_shareplacement p JOIN validator_miner m ON m.id = p.miner_id"
            " WHERE p.object_id = %s AND p.status = 'live'",
            (object_id,),
        ).fetchall()
    return sorted(str(r[0]) for r in rows)


def test_a_killed_miners_share_is_read_around_and_rebuilt_elsewhere(faults: Faults) -> None:
    data = os.urandom(2 * 1024 * 1024 + 11)
    stored = faults.api.post("/api/v1/objects/", params={"name": "precious.bin"}, content=data, timeout=120)
    assert stored.status_code == 201, stored.text
    object_id = stored.json()["id"]
    before = _holders(faults, object_id)
    assert len(before) == 2
    victim = next(n for n in faults.net.nodes if n.role == "miner" and n.hotkey.ss58 == before[0])
    faults.net.kill(victim.name)

    back = faults.api.get(f"/api/v1/objects/{object_id}/content/", timeout=120)
    assert back.status_code == 200, back.text
    assert back.content == data

    validator = next(n for n in faults.net.nodes if n.role == "validator")
    report = json.loads(manage_checked(["storage_maintain", "--all"], faults.net._env(validator)))
    assert report["audits"]["failed"] >= 1
    assert report["repairs"]["shares_rebuilt"] == 1
    after = _holders(faults, object_id)
    assert victim.hotkey.ss58 not in after
    assert len(after) == 2
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the health update travels through the validator's outbox
        health = faults.api.get(f"/api/v1/objects/{object_id}/").json()["health"]
        if health["shares"] == 2:
            break
        time.sleep(0.2)
    assert health["shares"] == 2
    faults.net.revive(victim.name)
    again = faults.api.get(f"/api/v1/objects/{object_id}/content/", timeout=120)
    assert again.content == data
