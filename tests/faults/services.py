"""Private Postgres and Redis instances for the fault scenarios that restart them: the machine's own
are shared with everyone else working here, so a scenario only ever stops the ones it started."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from deploy.localnet.ports import free_ports

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: drop to the system's postgres user if we are."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _wait_port(port: int, *, up: bool, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                listening = True
        except OSError:
            listening = False
        if listening == up:
            return
        time.sleep(0.1)
    raise TimeoutError(f"port {port} still {'closed' if up else 'open'} after {timeout}s")


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{argv} exited with {done.returncode}: {done.stderr.strip()[-2000:]}")


@dataclass
class PrivatePostgres:
    """Its data lives in a directory of its own under /tmp: the postgres user cannot reach pytest's
    (root-only) temporary directories."""

    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="meshwork-faults-pg-")))
    port: int = 0

    def start(self) -> None:
        if not self.port:
            self.port = free_ports(1)[0]
        data = self.directory / "data"
        if not data.exists():
            if os.geteuid() == 0:
                shutil.chown(self.directory, "postgres")
            initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"]
            _run(_as_postgres([*initdb, "-E", "UTF8"]))
        # fsync off: a test instance, faster on a loaded machine; enough connections for every process.
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        )
        start = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(self.directory / "postgres.log"), "-o", options]
        _run(_as_postgres([*start, "-w", "-t", "60", "start"]))
        _wait_port(self.port, up=True)

    def stop(self, mode: str = "fast") -> None:
        """`fast` closes every session; `immediate` is a crash (no checkpoint, recovery on start)."""
        data = self.directory / "data"
        stop = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", mode, "-w", "-t", "60", "stop"]
        subprocess.run(_as_postgres(stop), check=False, capture_output=True)
        _wait_port(self.port, up=False)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class PrivateRedis:
    directory: Path
    port: int = 0
    popen: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if not self.port:
            self.port = free_ports(1)[0]
        self.directory.mkdir(parents=True, exist_ok=True)
        log = (self.directory / "redis.log").open("ab")
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.popen = subprocess.Popen(argv, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        _wait_port(self.port, up=True)

    def stop(self) -> None:
        """SIGKILL: what Redis loses is what a crash loses (nothing is saved, `--save ''`)."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait()
        _wait_port(self.port, up=False)
