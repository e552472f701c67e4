"""A local network on the real subtensor runtime (spec 218) run offline by Chopsticks.

The runtime refuses loopback serving addresses, so nodes learn each other's local addresses from
CHAIN_ADDRESS_OVERRIDES, as operators behind NAT must."""

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

from deploy.localnet.processes import ROOT, Proc

SPEC_NAME = "subtensor-raonet-spec218-raw.json"


def fixtures_dir() -> Path:
    return Path(os.environ.get("CHAIN_FIXTURES_DIR", ROOT.parent / "shared" / "chain"))


def chopsticks_proc(*, port: int, log_path: Path) -> Proc:
    spec = fixtures_dir() / SPEC_NAME
    if not spec.exists():
        raise FileNotFoundError(f"LOCALNET_CHAIN=subtensor needs {spec} (set CHAIN_FIXTURES_DIR)")
    binary = subprocess.run(
        ["bash", str(ROOT / "deploy" / "chopsticks" / "install.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    # --timestamp is required: without it block 1 fails the Aura slot check.
    argv = [binary, "--genesis", str(spec), "--host", "127.0.0.1", "--port", str(port), "--timestamp", "1764000000000"]
    return Proc("chopsticks", argv, dict(os.environ), log_path)


def wait_for_rpc(port: int, proc: Proc, timeout: float = 90.0) -> str:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "system_chain", "params": []}).encode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive:
            raise RuntimeError(f"Chopsticks exited:\n{proc.tail()}")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}", data=body, headers={"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 (loopback only)
                if b'"result"' in response.read():
                    return f"ws://127.0.0.1:{port}"
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"Chopsticks did not answer on port {port} within {timeout:.0f}s")
