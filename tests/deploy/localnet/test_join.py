"""`make node ROLE=miner` against a running local network: the new miner registers, stakes and
serves on the chain, its DHT node joins, the validator picks it up, and jobs land on it; Ctrl-C
stops it and takes it off credentials.json."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy.localnet.network import LocalNetwork, NetworkConfig
from deploy.localnet.processes import ROOT
from deploy.localnet.published import network_publish
from deploy.localnet.readiness import validators_connected
from tests.e2e.conftest import _require_docker, fresh_prefix, running_network, submit, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    _require_docker()
    config = NetworkConfig(
        directory=Path(tmp_path_factory.mktemp("joinnet")),
        validators=1,
        miners=1,
        executors=1,
        port_base=None,
        db_prefix=fresh_prefix("e2e_join"),
        # Its beat syncs the metagraph, so it sees a new miner; the facilitator's is synced by the join.
        celery_roles=frozenset({"validator"}),
        calibrate_runs=0,
        extra_env={"CHAIN_SYNC_INTERVAL_S": "2"},
    )
    with running_network(config, timeout=120) as net:
        net.write_credentials()
        network_publish(net)  # as `make localnet` does once it is up
        yield net


class Output:
    """A process's output lines, read as they come on a thread of their own."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.put(line)

    def until(self, needle: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.seen.append(self.lines.get(timeout=1))
            except queue.Empty:
                continue
            if needle in self.seen[-1]:
                return "".join(self.seen)
        raise AssertionError(f"{needle!r} not printed in {timeout}s:\n{''.join(self.seen)}")

    def rest(self) -> str:
        self._thread.join(timeout=30)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)


def test_a_miner_joins_the_running_network_and_receives_jobs(network: LocalNetwork) -> None:
    env = {**os.environ, "LOCALNET_DIR": str(network.dir), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "deploy/localnet/node.py"), "--role", "miner"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(proc)
    try:
        started = time.monotonic()
        out = output.until("Press Ctrl-C", timeout=150)
        print(out)
        print(f"joined in {time.monotonic() - started:.0f}s")
        assert "miner2 joined and receives work" in out
        creds = json.loads((network.dir / "credentials.json").read_text())
        joined = next(n for n in creds["nodes"] if n["name"] == "miner2")
        assert httpx.get(joined["url"] + "/healthz/").status_code == 200

        token = network.credentials["api_token"]
        with httpx.Client(
            base_url=network.credentials["facilitator_url"], headers={"Authorization": f"Token {token}"}, timeout=30
        ) as api:
            miners: list[str] = []
            for _ in range(12):  # routing shuffles between the two miners: one of these lands on miner2
                job = wait_for(api, submit(api, args=["python3", "-c", "print(6*7)"])["uuid"], timeout=90)
                assert job["status"] == "completed", job
                miners.append(job["miner_hotkey"])
                if joined["hotkey"] in miners:
                    break
        assert joined["hotkey"] in miners, f"no job landed on the new miner: {miners}"
        print(
            f"{len(miners)} job(s) until one landed on miner2, {time.monotonic() - started:.0f}s after the join began"
        )
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    rest = output.rest()
    assert proc.stdout is not None
    proc.stdout.close()
    assert proc.returncode == 0, rest
    assert "stopped." in rest
    creds = json.loads((network.dir / "credentials.json").read_text())
    assert "miner2" not in {n["name"] for n in creds["nodes"]}


def _join(network: LocalNetwork, role: str) -> tuple[subprocess.Popen[str], Output]:
    env = {**os.environ, "LOCALNET_DIR": str(network.dir), "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, str(ROOT / "deploy/localnet/node.py"), "--role", role]
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, Output(proc)


def test_a_validator_joins_and_the_facilitator_holds_its_session(network: LocalNetwork) -> None:
    proc, output = _join(network, "validator")
    try:
        out = output.until("Press Ctrl-C", timeout=150)
        assert "validator2 joined and is connected to the facilitator" in out
        creds = json.loads((network.dir / "credentials.json").read_text())
        joined = next(n for n in creds["nodes"] if n["name"] == "validator2")
        db = f"{network.config.db_prefix}_facilitator"
        assert joined["hotkey"] in validators_connected(database=db)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.stdout is not None
    proc.stdout.close()
    assert proc.returncode == 0, output.rest()


def test_joining_a_stopped_network_says_so_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "deploy/localnet/node.py"), "--role", "miner"],
        env={**os.environ, "LOCALNET_DIR": str(tmp_path)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    hint = "start one with `make localnet` (same LOCALNET_DIR) first"
    assert done.stderr.strip().splitlines() == [f"make node: no local network is running in {tmp_path}: {hint}"]
