"""bench/cycle.py end to end at a tiny size: it must keep driving the real benchmark_run (it wraps
run.py's step functions by name, so a rename fails here, not silently in `make bench`)."""

import os
import subprocess
import sys
from pathlib import Path

from deploy.localnet.databases import existing_databases

ROOT = Path(__file__).resolve().parents[2]


def test_a_small_cycle_passes_every_honest_executor_and_drops_its_database() -> None:
    name = f"meshwork_bench_cycle_{os.environ.get('PYTEST_XDIST_WORKER') or os.environ.get('MESHWORK_TEST_ID', 'main')}"
    env = {**os.environ, "MESHWORK_BENCH_CYCLE_DB": name, "MESHWORK_TEST_ID": "", "DATABASE_URL": ""}
    command = [sys.executable, str(ROOT / "bench" / "cycle.py"), "--miners", "2", "--executors", "3", "--n", "64"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "check rows recorded: 14 (2 manifest, 12 pow + matmul), passed 12" in lines
    assert "  reasons: {'passed': 12}" in lines
    steps = [line.split()[0] for line in lines if line.startswith("  ") and line.split()[-1][0].isdigit()]
    assert steps[:6] == ["dial", "manifests", "pow", "pow", "matmul", "matmul"]
    assert any(line.startswith("  matmul measured seconds") and "verified 6 in" in line for line in lines)
    assert name not in existing_databases(name)
