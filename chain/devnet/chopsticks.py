"""Start and stop Chopsticks on a raw chain spec, on a loopback port, and wait until its RPC answers."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

from django.conf import settings

from chain.interface import ChainError

INSTALL_SCRIPT = Path(settings.BASE_DIR) / "deploy" / "chopsticks" / "install.sh"
# Block 1 fails the Aura slot check without a fixed timestamp (see shared/chain/README.md).
GENESIS_TIMESTAMP_MS = 1_764_000_000_000
SPECS = {
    "subtensor": "subtensor-raonet-spec218-raw.json",
    "hypertensor": "hypertensor-hoskinson-raw.json",
}


def chopsticks_bin() -> Path:
    """settings.CHOPSTICKS_BIN, else the pinned install in .tools/ (installed now if absent)."""
    if settings.CHOPSTICKS_BIN:
        return Path(settings.CHOPSTICKS_BIN)
    try:
        out = subprocess.run(["bash", str(INSTALL_SCRIPT)], check=True, capture_output=True, text=True, timeout=900)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise ChainError(f"installing Chopsticks failed: {detail}", name="ChopsticksMissing") from exc
    return Path(out.stdout.strip().splitlines()[-1])


def spec_path(runtime: str) -> Path:
    return Path(settings.CHAIN_FIXTURES_DIR) / SPECS[runtime]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Chopsticks:
    """One Chopsticks process: `with Chopsticks(spec) as node: node.endpoint`."""

    def __init__(self, spec: Path, *, port: int | None = None, log_path: Path | None = None) -> None:
        if not spec.is_file():
            raise ChainError(f"missing chain spec {spec}", name="FixtureMissing")
        self.spec = spec
        self.port = port or free_port()
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, *, timeout_s: float = 90.0) -> "Chopsticks":
        cmd = [
            str(chopsticks_bin()),
            "--genesis", str(self.spec),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--timestamp", str(GENESIS_TIMESTAMP_MS),
        ]  # fmt: skip
        self._log = open(self.log_path, "ab") if self.log_path else None
        out = self._log if self._log else subprocess.DEVNULL
        self._process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise ChainError(
                    f"Chopsticks exited with {self._process.returncode} (log: {self.log_path})", name="ChopsticksFailed"
                )
            if rpc_answers(self.port):
                return
            time.sleep(0.25)
        raise ChainError(
            f"Chopsticks did not answer on port {self.port} within {timeout_s:.0f}s", name="ChopsticksFailed"
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if self._log is not None:
            self._log.close()  # the child keeps its own descriptor
            self._log = None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)  # its own session: node and any helper it spawned
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def __enter__(self) -> "Chopsticks":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def rpc_answers(port: int) -> bool:
    """True once `system_chain` answers over HTTP JSON-RPC on the port."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "system_chain", "params": []}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}", data=body, headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            return "result" in json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError):
        return False
