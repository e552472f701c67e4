#!/usr/bin/env python
"""Executor overhead: a trivial job (`python3 -c pass`) driven by `executor_run_job` alone (create,
start, wait, inspect, logs, remove, its workspace, in this process), against a bare
`docker run --rm --network none` of the same image. Runs are interleaved so both see the same
machine; prints both medians and the ratio (goal ≤ 1.15×, the whole network's budget).

Two figures for the executor: until its terminal message (what the miner relays, so what a user
waits for; the container is removed by then, like `--rm`) and until `executor_run_job` returns
(its workspace removed too).

    .venv/bin/python bench/executor_overhead.py [--runs 30] [--volumes]

--volumes forces the volume workspace (what a remote engine gets) instead of the host tmpfs one.
"""

import argparse
import asyncio
import functools
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from executor.runtime import workspace  # noqa: E402
from executor.runtime.driver import executor_run_job  # noqa: E402
from protocol.messages.common import JobSpec  # noqa: E402
from protocol.messages.executor import ExecutorLimits, ExecutorRun  # noqa: E402
from protocol.messages.jobs import JobFinished, JobProgress  # noqa: E402

IMAGE = "meshwork/job-python:3.11"
ARGS = ["python3", "-c", "pass"]
WARMUP = 3
OWNER = "bench-executor-overhead"


def bare_docker_run() -> float:
    start = time.perf_counter()
    subprocess.run(["docker", "run", "--rm", "--network", "none", IMAGE, *ARGS], check=True, capture_output=True)
    return time.perf_counter() - start


async def through_executor() -> tuple[float, float]:
    run = ExecutorRun(
        job_uuid=uuid.uuid4(),
        spec=JobSpec(image=IMAGE, args=ARGS, executor_class="cpu.small", timeout_s=60),
        limits=ExecutorLimits(cpus=1, memory_mb=512, pids=128, output_mb=64),
    )
    terminal: list[tuple[JobProgress, float]] = []

    async def emit(message: JobProgress) -> None:
        terminal[:] = [(message, time.perf_counter())]

    start = time.perf_counter()
    await executor_run_job(run=run, docker_url="local", emit=emit, cancel=asyncio.Event(), owner=OWNER)
    returned = time.perf_counter() - start
    message, at = terminal[0]
    if not isinstance(message, JobFinished):
        raise SystemExit(f"job ended {message!r}")
    return at - start, returned


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--volumes", action="store_true", help="force the volume workspace")
    args = parser.parse_args()
    if args.volumes:
        workspace.tmpfs_supported = functools.cache(lambda: False)  # type: ignore[attr-defined]  # the probe it replaces
    bare: list[float] = []
    reported: list[float] = []
    returned: list[float] = []
    for i in range(WARMUP + args.runs):
        # Alternate which goes first, so neither always runs on a machine the other just warmed.
        b = bare_docker_run() if i % 2 == 0 else None
        report, back = await through_executor()
        b = b if b is not None else bare_docker_run()
        if i >= WARMUP:
            bare.append(b)
            reported.append(report)
            returned.append(back)
    bare_ms = statistics.median(bare) * 1000
    reported_ms, returned_ms = statistics.median(reported) * 1000, statistics.median(returned) * 1000
    mode = "volume workspace" if args.volumes else "host workspace (tmpfs /output)"
    print(f"runs: {args.runs} interleaved (+{WARMUP} warm-up), {mode}")
    print(f"bare docker run --rm:                 median {bare_ms:7.1f} ms")
    print(f"executor, until its terminal message: median {reported_ms:7.1f} ms  ratio {reported_ms / bare_ms:.3f}x")
    print(f"executor, until removed and returned: median {returned_ms:7.1f} ms  ratio {returned_ms / bare_ms:.3f}x")


if __name__ == "__main__":
    asyncio.run(main())
