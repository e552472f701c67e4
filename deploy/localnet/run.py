#!/usr/bin/env python
"""`make localnet`: start a whole local Meshwork network and keep it in the foreground.

Counts come from LOCALNET_VALIDATORS, LOCALNET_MINERS, LOCALNET_EXECUTORS; data lives in
LOCALNET_DIR (default .localnet/) and in Postgres databases named meshwork_localnet_*, and is
reused by the next run. Once up, a process that dies is reported and restarted with backoff
(deploy/localnet/supervisor.py). Ctrl-C (SIGINT) or SIGTERM stops every process it started; the
exit status is non-zero only when the network could not start."""

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # noqa: E402

from deploy.localnet.databases import drop_databases, existing_databases  # noqa: E402
from deploy.localnet.network import LocalNetwork, NetworkConfig  # noqa: E402
from deploy.localnet.published import network_publish, network_unpublish  # noqa: E402


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.isdigit() or int(raw) < 1:
        sys.exit(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def _chain_env() -> str:
    chain = os.environ.get("LOCALNET_CHAIN", "local")
    if chain not in ("local", "subtensor"):
        sys.exit(f"LOCALNET_CHAIN must be local or subtensor, not {chain!r}")
    return chain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clean", action="store_true", help="delete the local network's data and exit")
    args = parser.parse_args()
    directory = Path(os.environ.get("LOCALNET_DIR", ROOT / ".localnet")).resolve()
    config = NetworkConfig(
        directory=directory,
        validators=_int_env("LOCALNET_VALIDATORS", 1),
        miners=_int_env("LOCALNET_MINERS", 3),
        executors=_int_env("LOCALNET_EXECUTORS", 2),
        port_base=_int_env("LOCALNET_PORT", 8000),
        chain=_chain_env(),
        cycle_s=_int_env("LOCALNET_CYCLE_S", 300),
    )
    if args.clean:
        drop_databases(sorted(existing_databases(config.db_prefix + "_")))
        for path in sorted(directory.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        print(f"removed {directory} and the {config.db_prefix}_* databases")
        return
    network = LocalNetwork(config)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    started = False
    try:
        print(f"preparing databases, keys and the local chain in {directory} ...", flush=True)
        network.prepare()
        network.start()
        with Progress(
            TextColumn("starting nodes"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}")
        ) as progress:
            task = progress.add_task("", total=len(network.nodes))
            network.wait_ready(
                timeout=180, on_ready=lambda node: progress.update(task, advance=1, description=f"{node.name} up")
            )
        started = True
        _announce(network, network.write_credentials())
        network_publish(network)  # what `make node` joins (deploy/localnet/published.py)
        # From here on a node that dies is reported and restarted; only Ctrl-C ends the network.
        network.supervise(report=lambda line: print(line, flush=True))
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # whatever stopped the start-up: one line, not a traceback
        print(f"\nthe local network could not start: {exc}", file=sys.stderr, flush=True)
    finally:
        network_unpublish(directory)
        print("\nstopping the local network ...", flush=True)
        network.stop()
        print("stopped.")
    if not started:
        sys.exit(1)


def _announce(network: LocalNetwork, path: Path) -> None:
    c = network.credentials
    print(f"\nMeshwork local network is up. Credentials: {path}\n{json.dumps(c, indent=2)}")
    for node in network.nodes:
        print(f"  {node.name:<12} {node.role:<11} {node.hotkey.ss58}  {node.url}")
    print(
        "\nSubmit a job:\n"
        f"  curl -s -X POST {c['facilitator_url']}/api/v1/jobs/ -H 'Authorization: Token {c['api_token']}' \\\n"
        "    -H 'Content-Type: application/json' \\\n"
        '    -d \'{"image": "meshwork/job-python:3.11", "args": ["python3", "-c", "print(6*7)"]}\'\n'
        f"Then: curl -s {c['facilitator_url']}/api/v1/jobs/<uuid>/ -H 'Authorization: Token {c['api_token']}'\n"
        f"Admin: {c['admin_url']} ({c['admin_username']} / {c['admin_password']})\n"
        + "".join(
            f"What {n.name} verified: {n.url}/api/v1/miners/ (admin {n.url}/admin/, same login)\n"
            for n in network.nodes
            if n.role == "validator"
        )
        + f"Logs: {network.dir / 'logs'}\n"
        "Add a node from another terminal: make node ROLE=miner (or ROLE=validator)\n"
        "Press Ctrl-C to stop every node.",
        flush=True,
    )


if __name__ == "__main__":
    main()
