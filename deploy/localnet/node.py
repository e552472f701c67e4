#!/usr/bin/env python
"""`make node ROLE=miner|validator`: join one more node to the local network that `make localnet`
runs (same LOCALNET_DIR) and keep it in the foreground. A node process that dies is restarted
with backoff, like the network's own; Ctrl-C (or SIGTERM) stops the node's processes, and only
them, and takes it off credentials.json's `nodes`. Errors are one line, exit status 1."""

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from deploy.localnet.join import (  # noqa: E402
    JoinError,
    node_add,
    node_register,
    node_remove,
    node_wait_ready,
    role_checked,
)
from deploy.localnet.network import LocalNetwork, Node  # noqa: E402
from deploy.localnet.processes import stop_all  # noqa: E402
from deploy.localnet.published import NoNetworkError, published_network  # noqa: E402


def _stop(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # once: the stopping itself is not interrupted
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", default=os.environ.get("ROLE", ""), help="miner or validator (make: ROLE=)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait until the network sees it")
    args = parser.parse_args(argv)
    directory = Path(os.environ.get("LOCALNET_DIR", ROOT / ".localnet")).resolve()
    try:
        role = role_checked(args.role)
        network = published_network(directory)
    except (JoinError, NoNetworkError) as exc:
        print(f"make node: {exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    node: Node | None = None
    joined = False
    try:
        node = node_add(network, role)
        print(f"joining {node.name} ({role}, {node.hotkey.ss58}) to the network in {directory} ...", flush=True)
        began = time.monotonic()
        node_register(network, node)
        print(f"  database, registration, stake and address on the chain: {time.monotonic() - began:.0f}s", flush=True)
        network.start(only=[node])
        node_wait_ready(network, node, timeout=args.timeout)
        print(f"  started and seen by the network: {time.monotonic() - began:.0f}s", flush=True)
        joined = True
        _announce(network, node)
        network.supervise(report=lambda line: print(line, flush=True))
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # keys, chain, database, a process that would not start: one line
        print(f"make node: {node.name if node else role} could not join: {exc}", file=sys.stderr, flush=True)
    finally:
        if node is not None:
            _leave(network, node)
    return 0 if joined else 1


def _leave(network: LocalNetwork, node: Node) -> None:
    print(f"\nstopping {node.name} ...", flush=True)
    if network.supervisor is not None:
        network.supervisor.stop()
    stop_all(network.procs)
    if node.role == "miner":
        network.sweep([node])  # its own leftover job containers, not the other miners'
    node_remove(network, node)
    print("stopped.", flush=True)


def _announce(network: LocalNetwork, node: Node) -> None:
    what = "receives work from the validators" if node.role == "miner" else "is connected to the facilitator"
    print(
        f"{node.name} joined and {what}.\n"
        f"  hotkey {node.hotkey.ss58}  REST {node.url}  DHT 127.0.0.1:{node.dht_port}"
        + (f"  TLS {node.address}" if node.tls_port else "")
        + f"\n  logs {network.dir / 'logs' / node.name}*.log\nPress Ctrl-C to stop it.",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
