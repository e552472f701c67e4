"""Fitting the local network to this one machine: the executor class its miners offer gets an
equal share of the cores (so the capacity the manifests claim is really there) and is calibrated
here; and the small `manage.py` steps that set-up runs on a node's database."""

import os
import subprocess
from dataclasses import dataclass

from deploy.localnet.processes import ROOT, manage

# Bump when what a calibration measures changes (the benchmarks' code or sizes): reruns recalibrate.
CALIBRATION_VERSION = 3


@dataclass(frozen=True)
class ClassSize:
    cpus: float
    memory_mb: int

    @property
    def description(self) -> str:
        return f"{self.cpus:g} CPU, {self.memory_mb} MiB: this machine's cores shared by its executors."


def class_size(*, executors: int) -> ClassSize:
    executors = max(1, executors)
    cpus = round(max(0.05, (os.cpu_count() or 1) / executors), 3)
    return ClassSize(cpus=cpus, memory_mb=max(256, min(1024, memory_mb() // (2 * executors))))


def memory_mb() -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 4096


def manage_checked(argv: list[str], env: dict[str, str]) -> str:
    """Runs `manage.py argv` for a node; its stdout, or RuntimeError with the end of its stderr."""
    done = subprocess.run(manage(*argv), env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def admin_user_ensure(*, env: dict[str, str], password: str) -> None:
    """The node's admin login (the facilitator's username and password); a rerun keeps it."""
    env = env | {
        "DJANGO_SUPERUSER_USERNAME": "admin",
        "DJANGO_SUPERUSER_PASSWORD": password,
        "DJANGO_SUPERUSER_EMAIL": "admin@localhost",
    }
    done = subprocess.run(manage("createsuperuser", "--noinput"), env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0 and "already taken" not in done.stderr:
        raise RuntimeError(f"creating an admin user failed:\n{done.stderr[-2000:]}")


def verification_env(*, owner_hotkey: str, cycle_s: int) -> dict[str, str]:
    """What every node of the local network shares about verification and the catalogue."""
    return {
        # The first validator is the subnet owner: it signs the executor-class catalogue.
        "SUBNET_OWNER_HOTKEY": owner_hotkey,
        "CATALOGUE_SYNC_S": "10",
        "VALIDATOR_CYCLE_S": str(cycle_s),
        "VALIDATOR_CYCLE_TICK_S": str(min(30, max(5, cycle_s // 10))),
        # The miners share this machine's one Docker engine by design (docs/verification.md).
        "VALIDATOR_FLAG_SHARED_ENGINES": "0",
        # Short local cycles start more often than production's: two starts per run, plus newcomers.
        "MINER_BENCH_MAX_STARTS_PER_HOUR": str(max(30, 4 * 3600 // max(1, cycle_s) + 10)),
        # Scores follow each cycle within a few seconds (weights: local_chain_env); receipts are pulled a few
        # times a cycle, and a running job gets an interval receipt every minute (production: 10).
        "VALIDATOR_SCORE_TICK_S": str(min(30, max(5, cycle_s // 10))),
        "VALIDATOR_SCORE_GRACE_S": str(min(60, max(5, cycle_s // 4))),
        "VALIDATOR_RECEIPT_PULL_S": str(min(120, max(5, cycle_s // 4))),
        "VALIDATOR_RECEIPT_INTERVAL_S": str(min(600, max(10, cycle_s // 5))),
    }


def local_chain_env(*, cycle_s: int, block_s: float = 1.0) -> dict[str, str]:
    """The local chain's subnet with commit-reveal on, quick enough that every cycle's weights are
    committed and revealed well inside the cycle: tempo a fifth of the cycle, the reveal one epoch
    on (opens at most tempo + 1 blocks after the commit), one commit per tempo per validator, and
    the reveal task and weights tick several times per window."""
    tempo = max(10, int(cycle_s / block_s) // 5)
    tick_s = max(1.0, min(30.0, tempo * block_s / 4))
    return {
        "LOCAL_CHAIN_BLOCK_SECONDS": f"{block_s:g}",
        "LOCAL_CHAIN_TEMPO": str(tempo),
        "LOCAL_CHAIN_COMMIT_REVEAL": "1",
        "LOCAL_CHAIN_REVEAL_PERIOD": "1",
        "LOCAL_CHAIN_WEIGHTS_RATE_LIMIT": str(tempo),
        "CHAIN_BLOCK_SECONDS": f"{max(block_s, tempo * block_s / 10):g}",  # the reveal task's period
        "VALIDATOR_WEIGHTS_TICK_S": f"{tick_s:g}",
    }
