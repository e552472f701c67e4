"""`make localnet`'s supervision on the real network: kill -9 any one node and it is reported,
started again, and the network runs jobs afterwards.

Runs after test_resilience (file order), whose killed miner the supervisor brings back too."""

import time

import pytest

from deploy.localnet.network import LocalNetwork, Node
from deploy.localnet.readiness import http_ok
from deploy.localnet.supervisor import Backoff
from tests.e2e.conftest import submit, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


def _pids(node: Node) -> list[int]:
    return [p.popen.pid for p in node.procs if p.popen is not None and p.alive]


def _wait_all_back(node: Node, old: list[int], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = _pids(node)
        if len(pids) == len(node.procs) and not set(pids) & set(old) and http_ok(node.health_url):
            return
        time.sleep(0.2)
    raise AssertionError(f"{node.name} not restarted after {timeout}s: {[(p.name, p.alive) for p in node.procs]}")


@pytest.mark.parametrize("victim", ["facilitator", "validator1", "miner1"])
def test_a_killed_node_is_reported_restarted_and_the_network_runs_jobs_again(network: LocalNetwork, api, victim):
    lines: list[str] = []
    supervisor = network.supervise(report=lines.append, backoff=Backoff(initial_s=0.5, max_s=5))
    try:
        node = network.node(victim)
        old = _pids(node)
        network.kill(victim)
        _wait_all_back(node, old)
        killed = {p.name for p in node.procs}
        reported = {d.name for d in supervisor.deaths}
        assert killed <= reported, (killed, lines)
        assert all(d.returncode == -9 for d in supervisor.deaths if d.name in killed)
        assert any(f"{victim} exited (-9)" in line and "Its last lines:" in line for line in lines)
        # Everything else kept serving; once the node is back, a job goes through end to end.
        job = submit(api, args=["python3", "-c", f"print('after {victim}')"], timeout_s=60)
        done = wait_for(api, job["uuid"], timeout=150)
        assert done["status"] == "completed", done
        assert done["stdout"] == f"after {victim}\n"
    finally:
        assert network.supervisor is not None
        network.supervisor.stop()
        network.supervisor = None
