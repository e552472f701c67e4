#!/usr/bin/env python
"""Organic-job overhead: a trivial job (`python3 -c pass`) submitted through the REST API of a
real local network until it is completed, against a bare `docker run --rm --network none` of the
same image, interleaved in one process. Prints both medians and the ratio (goal ≤ 1.15×).

    .venv/bin/python bench/organic_overhead.py [--runs 20]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from deploy.localnet.databases import drop_databases, existing_databases  # noqa: E402
from deploy.localnet.network import LocalNetwork, NetworkConfig  # noqa: E402

IMAGE = "meshwork/job-python:3.11"
ARGS = ["python3", "-c", "pass"]
WARMUP = 3


def bare_docker_run() -> float:
    start = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", "--network", "none", IMAGE, *ARGS], check=True, capture_output=True)
    return time.perf_counter() - start


STAGES: dict[str, list[float]] = {}


def through_meshwork(api: httpx.Client) -> float:
    start = time.perf_counter()
    job = api.post("/api/v1/jobs/", json={"image": IMAGE, "args": ARGS, "timeout_s": 60}).json()
    posted = time.perf_counter()
    # One long-poll: the facilitator answers the moment the job ends (no polling load).
    job = api.get(f"/api/v1/jobs/{job['uuid']}/wait/", params={"timeout": 60}).json()
    elapsed = time.perf_counter() - start
    if job["status"] != "completed":
        raise SystemExit(f"job {job['uuid']} ended {job['status']}")
    _note_stages(job, posted - start, elapsed)
    return elapsed


def _note_stages(job: dict, post_s: float, elapsed: float) -> None:
    """Where the time went, from the job's own history (server clock) and the client's clock."""
    at = {h["status"]: datetime.fromisoformat(h["at"]) for h in job["status_history"]}
    created = datetime.fromisoformat(job["created_at"])
    marks = {
        "POST round trip": post_s,
        "created → dispatched": (at["dispatched"] - created).total_seconds(),
        "dispatched → running (reserve, container create+start)": (at["running"] - at["dispatched"]).total_seconds(),
        "running → completed (run, collect, remove, report)": (at["completed"] - at["running"]).total_seconds(),
        "container run time (executor_seconds)": job["executor_seconds"],
        "created → completed (server)": (at["completed"] - created).total_seconds(),
        "client total": elapsed,
    }
    for name, value in marks.items():
        STAGES.setdefault(name, []).append(value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    prefix = f"meshwork_bench_{os.environ.get('MESHWORK_TEST_ID', 'main')}"  # parallel runs never collide
    drop_databases(sorted(existing_databases(prefix + "_")))
    directory = Path(tempfile.mkdtemp(prefix="meshwork-bench-"))
    net = LocalNetwork(
        NetworkConfig(directory=directory, miners=1, executors=2, port_base=None, db_prefix=prefix, celery=False)
    )
    net.prepare()
    net.start()
    try:
        net.wait_ready()
        creds = net.credentials
        headers = {"Authorization": f"Token {creds['api_token']}"}
        with httpx.Client(base_url=creds["facilitator_url"], headers=headers, timeout=60) as api:
            for _ in range(WARMUP):  # imports, links to the miner, page cache: both sides alike
                through_meshwork(api), bare_docker_run()
            STAGES.clear()
            meshwork: list[float] = []
            bare: list[float] = []
            for i in range(args.runs):
                # Interleave (and alternate which goes first) so drift hits both sides alike.
                pair = [(meshwork, lambda: through_meshwork(api)), (bare, bare_docker_run)]
                for samples, run in pair if i % 2 == 0 else reversed(pair):
                    samples.append(run())
        m, b = statistics.median(meshwork), statistics.median(bare)
        print(f"runs: {args.runs} each, interleaved; cores: {os.cpu_count()}")
        print(f"bare docker run --rm --network none: median {b * 1000:.0f} ms (min {min(bare) * 1000:.0f})")
        print(f"through Meshwork REST → completed:   median {m * 1000:.0f} ms (min {min(meshwork) * 1000:.0f})")
        print(f"ratio (Meshwork / bare): {m / b:.2f}x  (goal ≤ 1.15x)")
        print("where Meshwork's time goes (medians):")
        for name, values in STAGES.items():
            print(f"  {name:<58} {statistics.median(values) * 1000:7.0f} ms")
    finally:
        net.stop()
        drop_databases(sorted(existing_databases(prefix + "_")))


if __name__ == "__main__":
    main()
