"""Rentals through the whole network (docs/rentals.md): REST → facilitator → validator → a miner's
executor → a machine the user logs into with the real `ssh`; it is billed for the time it was up,
and when it expires or is ended its port closes and nothing of it is left. A machine that stops
answering SSH (paused: the kernel still accepts TCP, but no banner comes) is noticed by the
validator and the rental moves to another miner."""

import socket
import time
from typing import Any

import docker
import httpx
import psycopg
import pytest

from deploy.localnet.databases import database_url
from deploy.localnet.network import LocalNetwork
from tests.e2e.conftest import balance
from tests.ssh_login import Keys, keys_make, ssh

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return keys_make(tmp_path_factory.mktemp("rental-keys"))


def rent(api: httpx.Client, keys: Keys, duration_s: int) -> dict[str, Any]:
    body = {"executor_class": "cpu.small", "duration_s": duration_s, "ssh_public_key": keys.good_public}
    response = api.post("/api/v1/rentals/", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def rental_when(api: httpx.Client, uuid: str, done: Any, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rental = dict(api.get(f"/api/v1/rentals/{uuid}/").json())
        if done(rental):
            return rental
        time.sleep(0.25)
    raise AssertionError(f"rental {uuid} never got there: {rental}")


def machine_containers(uuid: str) -> list[Any]:
    return list(docker.from_env().containers.list(all=True, filters={"label": f"meshwork.job={uuid}"}))


def port_closed(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=3).close()
    except ConnectionRefusedError:
        return True
    return False


def receipts(network: LocalNetwork, uuid: str) -> list[tuple[str, str, float | None]]:
    """The validator's receipts of a job: what its scores count as worked time (validator/scoring)."""
    with psycopg.connect(database_url(f"{network.config.db_prefix}_validator1"), autocommit=True) as conn:
        sql = "SELECT kind, job_kind, seconds FROM validator_receiptrecord WHERE job_uuid = %s ORDER BY id"
        return [(k, j, s) for k, j, s in conn.execute(sql, (uuid,)).fetchall()]


def test_rent_log_in_and_it_is_gone_when_it_expires(api: httpx.Client, keys: Keys, network: LocalNetwork) -> None:
    before, _ = balance(api)
    rental = rent(api, keys, duration_s=10)
    active = rental_when(api, rental["uuid"], lambda r: r["ssh"] is not None)
    login = active["ssh"]

    inside = ssh(login["host"], login["port"], login["user"], "id -un; hostname", key=keys.good)
    other = ssh(login["host"], login["port"], login["user"], "id", key=keys.other)
    assert (inside.returncode, inside.stdout.split()[0]) == (0, "meshwork"), inside.stderr
    assert other.returncode == 255
    assert active["status"] == "active"
    assert active["expires_at"] is not None

    ended = rental_when(api, rental["uuid"], lambda r: r["status"] in ("ended", "failed"), timeout=90)
    assert ended["status"] == "ended", ended
    assert ended["ssh"] is None
    assert [e["status"] for e in ended["status_history"]][-1] == "ended"
    assert port_closed(login["port"])
    assert machine_containers(rental["uuid"]) == []
    cost = float(ended["cost"])
    assert cost == pytest.approx(10 * 0.001, abs=0.003)  # its 10 s at cpu.small's price
    after, held = balance(api)
    assert after == pytest.approx(before - cost, abs=1e-6)
    assert held == pytest.approx(0, abs=1e-6)
    # Worked time in the scores: the rental's signed receipts, organic like a job's.
    deadline = time.monotonic() + 30
    rows = receipts(network, rental["uuid"])
    while not any(kind == "job_finished" for kind, _, _ in rows):
        assert time.monotonic() < deadline, rows
        time.sleep(0.5)
        rows = receipts(network, rental["uuid"])
    finished = next(s for k, j, s in rows if k == "job_finished" and j == "organic")
    assert finished == pytest.approx(10, abs=2)


def test_ending_a_rental_removes_its_machine_at_once(api: httpx.Client, keys: Keys) -> None:
    rental = rent(api, keys, duration_s=600)
    active = rental_when(api, rental["uuid"], lambda r: r["ssh"] is not None)
    assert api.delete(f"/api/v1/rentals/{rental['uuid']}/").status_code == 200

    ended = rental_when(api, rental["uuid"], lambda r: r["status"] == "ended", timeout=60)
    assert port_closed(active["ssh"]["port"])
    assert machine_containers(rental["uuid"]) == []
    assert 0 < float(ended["cost"]) < 600 * 0.001  # billed for the time it was up, not the 600 s


def test_a_machine_that_stops_answering_ssh_moves_to_another_miner(api: httpx.Client, keys: Keys) -> None:
    rental = rent(api, keys, duration_s=600)
    first = rental_when(api, rental["uuid"], lambda r: r["ssh"] is not None)
    machine = next(c for c in machine_containers(rental["uuid"]) if not c.name.endswith("-fence"))
    machine.pause()  # TCP still accepted by the kernel, but no banner: only a banner read tells

    moved = rental_when(
        api, rental["uuid"], lambda r: r["ssh"] is not None and r["miner_hotkey"] != first["miner_hotkey"], timeout=90
    )
    details = " ".join(e["detail"] for e in moved["status_history"])
    assert "(rental_unreachable); trying another miner" in details
    login = moved["ssh"]
    assert ssh(login["host"], login["port"], login["user"], "true", key=keys.good).returncode == 0
    assert api.delete(f"/api/v1/rentals/{rental['uuid']}/").status_code == 200
    rental_when(api, rental["uuid"], lambda r: r["status"] == "ended", timeout=60)
    assert machine_containers(rental["uuid"]) == []
