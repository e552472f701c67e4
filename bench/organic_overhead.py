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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from deploy.localnet.databases import drop_databases, existing_databases  # noqa: E402
from deploy.localnet.network import LocalNetwork, NetworkConfig  # noqa: E402

IMAGE = "meshwork/job-python:3.11"
ARGS = ["python3", "-c", "pass"]
# A client polling the job every 20 ms (the API has no push); at 5 ms the polling itself eats a core.
POLL_S = 0.02
WARMUP = 3


def bare_docker_run() -> float:
    start = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", "--network", "none", IMAGE, *ARGS], check=True, capture_output=True)
    return time.perf_counter() - start


def through_meshwork(api: httpx.Client) -> float:
    start = time.perf_counter()
    job = api.post("/api/v1/jobs/", json={"image": IMAGE, "args": ARGS, "timeout_s": 60}).json()
    while True:
        status = api.get(f"/api/v1/jobs/{job['uuid']}/").json()["status"]
        if status in {"completed", "failed", "timeout", "cancelled", "rejected"}:
            break
        time.sleep(POLL_S)
    elapsed = time.perf_counter() - start
    if status != "completed":
        raise SystemExit(f"job {job['uuid']} ended {status}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    prefix = "meshwork_bench"
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
            meshwork, bare = [], []
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
    finally:
        net.stop()
        drop_databases(sorted(existing_databases(prefix + "_")))


if __name__ == "__main__":
    main()
