#!/usr/bin/env python
"""Throughput and latency: N one-second jobs on E executors submitted through the REST API of a
real local network, against `xargs -P E docker run` of the same containers (same image, command
and the executor's flags as far as bare `docker run` has them), alternating rounds in one
process. Prints the medians of both makespans, their ratio (goal ≤ 1.2×) and p50/p95 of
submit → running and submit → completed from the jobs' own status history.

    .venv/bin/python bench/throughput.py [--jobs 60] [--miners 3] [--executors 2] [--rounds 3]
"""

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from deploy.localnet.databases import drop_databases, existing_databases  # noqa: E402
from deploy.localnet.network import LocalNetwork, NetworkConfig  # noqa: E402

IMAGE = "meshwork/job-python:3.11"
ARGS = ["python3", "-c", "import time; time.sleep(1)"]
JOB_USER = "65534:65534"  # executor/runtime/names.py: jobs run as nobody
SUBMITTERS = 8  # client threads posting jobs: a user's script with a small pool


def docker_argv(limits: dict[str, Any]) -> list[str]:
    """The executor's container flags (executor/runtime/container.py) as `docker run` spells them;
    the per-job /output mount is left out (bare Docker has nothing to collect)."""
    memory = f"{limits['memory_mb']}m"
    return [
        "docker", "run", "--rm", "--network", "none", "--read-only", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges", "--cpus", str(limits["cpus"]), "--memory", memory,
        "--memory-swap", memory, "--pids-limit", str(limits["pids"]),
        "--tmpfs", "/tmp:rw,nosuid,nodev,size=64m,mode=1777", "--ipc", "private", "--log-driver", "none",
        "--user", JOB_USER, IMAGE, *ARGS,
    ]  # fmt: skip


def bare_round(jobs: int, executors: int, argv: list[str], completed: list[float]) -> float:
    """`seq N | xargs -P E <docker run …>`: E containers at a time until N have run. Each
    container's end is stamped (`date`, wall clock) so its submit → completed (all N are
    "submitted" at the start) compares with Meshwork's."""
    each = f"{shlex.join(argv)} > /dev/null && date +%s.%N"
    items = "".join(f"{i}\n" for i in range(jobs))
    wall, start = time.time(), time.perf_counter()
    done = subprocess.run(
        ["xargs", "-P", str(executors), "-I{}", "sh", "-c", each],
        input=items,
        check=True,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    completed.extend(float(line) - wall for line in done.stdout.split())
    return elapsed


class Latencies:
    def __init__(self) -> None:
        self.running: list[float] = []
        self.completed: list[float] = []

    def note(self, job: dict[str, Any]) -> None:
        """Server clock: created_at (the POST) to the first `running` and to `completed`."""
        created = datetime.fromisoformat(job["created_at"])
        at = {h["status"]: datetime.fromisoformat(h["at"]) for h in reversed(job["status_history"])}
        self.running.append((at["running"] - created).total_seconds())
        self.completed.append((at["completed"] - created).total_seconds())


def meshwork_round(api: httpx.Client, jobs: int, latencies: Latencies) -> float:
    """All N posted by SUBMITTERS threads, each then long-polled until it ends; the makespan is
    from the first POST to the last job seen completed."""

    def post(_: int) -> str:
        reply = api.post("/api/v1/jobs/", json={"image": IMAGE, "args": ARGS, "timeout_s": 120})
        reply.raise_for_status()
        return str(reply.json()["uuid"])

    def wait(uuid: str) -> dict[str, Any]:
        while True:
            job: dict[str, Any] = api.get(f"/api/v1/jobs/{uuid}/wait/", params={"timeout": 60}).json()
            if job["status"] not in ("pending", "dispatched", "running"):
                return job

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=SUBMITTERS) as pool:
        uuids = list(pool.map(post, range(jobs)))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        done = list(pool.map(wait, uuids))
    elapsed = time.perf_counter() - start
    bad = [(j["uuid"], j["status"]) for j in done if j["status"] != "completed"]
    if bad:
        raise SystemExit(f"{len(bad)} jobs did not complete: {bad[:3]}")
    for job in done:
        latencies.note(job)
    return elapsed


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=60)
    parser.add_argument("--miners", type=int, default=3)
    parser.add_argument("--executors", type=int, default=2, help="per miner")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    executors = args.miners * args.executors
    prefix = f"meshwork_tp_{os.environ.get('MESHWORK_TEST_ID', 'main')}"  # own prefix: other benches drop theirs
    drop_databases(sorted(existing_databases(prefix + "_")))
    directory = Path(tempfile.mkdtemp(prefix="meshwork-bench-tp-"))
    config = NetworkConfig(
        directory=directory, miners=args.miners, executors=args.executors, port_base=None, db_prefix=prefix
    )
    config.celery = False  # as bench/organic_overhead.py: the job path needs no Celery
    net = LocalNetwork(config)
    net.prepare()
    net.start()
    try:
        net.wait_ready()
        creds = net.credentials
        headers = {"Authorization": f"Token {creds['api_token']}"}
        with httpx.Client(base_url=creds["facilitator_url"], headers=headers, timeout=90) as api:
            classes = api.get("/api/v1/executor-classes/").json()
            rows = classes["results"] if isinstance(classes, dict) else classes
            limits = next(c for c in rows if c["name"] == "cpu.small")
            argv = docker_argv(limits)
            meshwork_round(api, executors, Latencies())  # warm-up: links, images, page cache
            bare_round(executors, executors, argv, [])
            latencies, bare_completed = Latencies(), list[float]()
            meshwork: list[float] = []
            bare: list[float] = []
            for i in range(args.rounds):
                pair: list[tuple[list[float], Callable[[], float]]] = [
                    (meshwork, lambda: meshwork_round(api, args.jobs, latencies)),
                    (bare, lambda: bare_round(args.jobs, executors, argv, bare_completed)),
                ]
                for samples, run in pair if i % 2 == 0 else reversed(pair):
                    samples.append(run())
                print(f"round {i + 1}: meshwork {meshwork[-1]:.1f} s, bare {bare[-1]:.1f} s", flush=True)
        m, b = statistics.median(meshwork), statistics.median(bare)
        print(f"{args.jobs} jobs of {' '.join(ARGS)!r} on {executors} executors, {args.rounds} rounds alternating")
        print(f"cores: {os.cpu_count()}, load average at the end: {os.getloadavg()[0]:.2f}")
        print(f"xargs -P {executors} docker run: median {b:.1f} s (rounds: {', '.join(f'{x:.1f}' for x in bare)})")
        print(f"through Meshwork REST:          median {m:.1f} s (rounds: {', '.join(f'{x:.1f}' for x in meshwork)})")
        print(f"ratio (Meshwork / bare): {m / b:.2f}x  (goal ≤ 1.2x)")
        rows = [
            ("Meshwork submit → running", latencies.running),
            ("Meshwork submit → completed", latencies.completed),
            ("bare start → completed", bare_completed),
        ]
        for name, values in rows:
            p50, p95 = percentile(values, 50), percentile(values, 95)
            print(f"{name:<28} p50 {p50:6.2f} s   p95 {p95:6.2f} s   ({len(values)} jobs)")
    finally:
        net.stop()
        drop_databases(sorted(existing_databases(prefix + "_")))


if __name__ == "__main__":
    main()
