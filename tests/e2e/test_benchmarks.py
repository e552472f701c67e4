"""The local network as `make localnet` runs it (Celery beat, DHT, the catalogue, calibration):
benchmark cycles in which every honest miner's executors are verified, visible in the validator's
read-only API."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.localnet.network import LocalNetwork, NetworkConfig
from tests.e2e.conftest import fresh_prefix, running_network

pytestmark = [pytest.mark.e2e, pytest.mark.docker]


@pytest.fixture(scope="module")
def benchmarked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    config = NetworkConfig(
        directory=Path(tmp_path_factory.mktemp("benchnet")),
        port_base=None,
        db_prefix=fresh_prefix("e2e_bench"),
        cycle_s=40,  # a cycle every 40 s, ticks every 5 s
        calibrate_runs=1,
        extra_env={"LOG_LEVEL": "INFO"},
    )
    with running_network(config, timeout=150, tail=20) as net:
        yield net


def _complete_runs(checks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Checks grouped by cycle number, keeping cycles whose runs are over: per manifest check
    (one per run here: one host), two pow and two matmul checks. (A cycle's newcomer run and its
    full run share the number.)"""
    by_cycle: dict[int, list[dict[str, Any]]] = {}
    for check in checks:
        by_cycle.setdefault(check["cycle"], []).append(check)
    done = []
    for group in by_cycle.values():
        count = {b: sum(c["benchmark"] == b for c in group) for b in ("manifest", "pow", "matmul")}
        if count["manifest"] and count["pow"] == count["matmul"] == 2 * count["manifest"]:
            done.append(group)
    return done


def test_every_honest_executor_is_verified_and_visible(benchmarked: LocalNetwork) -> None:
    validator = benchmarked.node("validator1")
    miners = {n.hotkey.ss58 for n in benchmarked.nodes if n.role == "miner"}
    deadline = time.monotonic() + 240
    report: list[dict[str, Any]] = []
    with httpx.Client(base_url=validator.url, timeout=10) as client:
        while time.monotonic() < deadline:
            report = client.get("/api/v1/miners/").json()
            verified = {m["hotkey"]: m["verified"] for m in report if m["hotkey"] in miners}
            details = [client.get(f"/api/v1/miners/{hotkey}/").json() for hotkey in miners]
            if (
                len(verified) == 3
                and all(v == {"cpu.small": 2} for v in verified.values())
                and all(_complete_runs(d["checks"]) for d in details)
            ):
                break
            time.sleep(3)
        else:
            pytest.fail(f"not every executor verified in time: {report}")
    for detail in details:
        assert detail["manifest"] == {"cpu.small": 2}
        assert detail["last_checked_at"]
        for checks in _complete_runs(detail["checks"]):
            failed = [
                (c["benchmark"], c["executor"], c["reason"], c["detail"], c["seconds"])
                for c in checks
                if not c["passed"]
            ]
            assert not failed, failed
            assert all(c["seconds"] > 0 for c in checks if c["benchmark"] != "manifest")
