#!/usr/bin/env python
"""The compose network's one-shot set-up (the `init` service of docker-compose.yml), the same
steps `make localnet` takes, on the compose Postgres: a database per node and the local chain,
each node's keys and TLS certificate, the nodes registered, staked and served on the local chain,
the user with an API token and credits, the validators' admin login, `cpu.small` sized to this
machine and calibrated on it (benchmark containers on the host's engine). Everything is kept in the
state volume, so a second `up` reuses it and this only migrates.

Writes /state/network.env (what every node shares: the facilitator's and the subnet owner's
hotkeys, the Django secret, the chain and verification settings; `deploy/compose/node.sh` loads it)
and /state/credentials.json (what `make compose` prints)."""

import argparse
import json
import os
import secrets
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from deploy.localnet.databases import admin_dsn, database_url, ensure_databases  # noqa: E402
from deploy.localnet.keys import key_load_or_create  # noqa: E402
from deploy.localnet.processes import manage  # noqa: E402
from deploy.localnet.sizing import (  # noqa: E402
    CALIBRATION_VERSION,
    admin_user_ensure,
    class_size,
    local_chain_env,
    verification_env,
)
from deploy.localnet.tls import cert_ensure  # noqa: E402
from protocol.storage.envelope import storage_secret_load_or_create  # noqa: E402

STATE = Path(os.environ.get("MESHWORK_STATE", "/state"))
STAGING = Path(os.environ.get("STORAGE_STAGING_DIR", "/staging"))
NODE_UID = 65534  # the app image's user: the nodes read their keys as it
TLS_PORT = 8500  # inside each container: the facilitator's and the miners' node-to-node port


def _wait_for_postgres(host: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(admin_dsn(host=host), connect_timeout=3):
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                sys.exit(f"init: postgres at {host} did not answer in {timeout:.0f}s: {exc}")
            time.sleep(1)


def _run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(manage(*argv), env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"init: manage.py {' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _shared_env(state: dict[str, str], owner: str, facilitator: str, cycle_s: int) -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": state["secret_key"],
        "FACILITATOR_HOTKEY": facilitator,
        **verification_env(owner_hotkey=owner, cycle_s=cycle_s),
        **local_chain_env(cycle_s=cycle_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--validators", nargs="+", required=True, help="validator node names")
    parser.add_argument("--miners", nargs="+", required=True, help="miner node names")
    parser.add_argument("--executors", type=int, default=2, help="executors per miner")
    parser.add_argument("--credits", default="100000")
    args = parser.parse_args()
    pg_host = os.environ.get("MESHWORK_POSTGRES_HOST", "postgres")
    cycle_s = int(os.environ.get("VALIDATOR_CYCLE_S", "300"))
    min_stake = int(os.environ.get("MIN_VALIDATOR_STAKE", "1000"))

    _wait_for_postgres(pg_host)
    state_path = STATE / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    state.setdefault("secret_key", secrets.token_urlsafe(40))
    state.setdefault("admin_password", secrets.token_urlsafe(12))
    names = ["facilitator", *args.validators, *args.miners]
    roles = {"facilitator": "facilitator", **dict.fromkeys(args.validators, "validator")}
    roles.update(dict.fromkeys(args.miners, "miner"))
    hotkeys = {name: key_load_or_create(STATE / "keys" / f"{name}.json") for name in names}
    coldkeys = {name: key_load_or_create(STATE / "keys" / f"{name}-coldkey.json").ss58 for name in names}
    for name in args.validators:  # made here: the validators' processes share it, /state is theirs read-only
        storage_secret_load_or_create(STATE / "keys" / f"{name}-storage.key")
    for name in ("facilitator", *args.miners):  # their certificates name them as their peers dial them
        cert_ensure(STATE / "tls", name, hosts=[name, "localhost"])

    shared = _shared_env(state, hotkeys[args.validators[0]].ss58, hotkeys["facilitator"].ss58, cycle_s)
    base = {**os.environ, **shared}
    ensure_databases(
        template="meshwork_template",
        names=[f"meshwork_{n}" for n in names] + ["meshwork_chain"],
        env=base,
        migrate_existing=True,
        host=pg_host,
    )

    def node_env(name: str) -> dict[str, str]:
        return base | {
            "MESHWORK_ROLE": roles[name],
            "MESHWORK_NODE_NAME": name,
            "DATABASE_URL": database_url(f"meshwork_{name}", host=pg_host),
            "MESHWORK_HOTKEY_PATH": str(STATE / "keys" / f"{name}.json"),
        }

    plan = {
        "nodes": [
            {
                "hotkey": hotkeys[n].ss58,
                "coldkey": coldkeys[n],
                "role": roles[n],
                "stake": 10 * min_stake if roles[n] == "validator" else min_stake,
                "address": f"{n}:{TLS_PORT}" if roles[n] == "miner" else "",
            }
            for n in names
            if n != "facilitator"
        ],
        "user": {"username": "admin", "password": state["admin_password"], "credits": args.credits},
    }
    (STATE / "plan.json").write_text(json.dumps(plan))
    out = _run(["localnet_bootstrap", str(STATE / "plan.json")], node_env("facilitator"))
    state["api_token"] = json.loads(out.strip().splitlines()[-1])["api_token"]
    # cpu.small gets this machine's cores shared by every executor, as on `make localnet`; these
    # steps touch a database each, so they run side by side (each is a Django start-up).
    size = class_size(executors=len(args.miners) * args.executors)
    resize = ["size_class", "cpu.small", "--cpus", str(size.cpus), "--memory-mb", str(size.memory_mb)]
    with ThreadPoolExecutor() as pool:
        sized = [pool.submit(_run, [*resize, "--description", size.description], node_env(name))
                 for name in ("facilitator", args.validators[0])]  # fmt: skip
        admins = [pool.submit(admin_user_ensure, env=node_env(n), password=state["admin_password"])
                  for n in args.validators]  # fmt: skip
        for done in sized:
            done.result()
        for made in admins:
            made.result()
    # Then measured here on the subnet owner, whose catalogue carries the reference times to every
    # node: once per sizing (a validator's benchmarks are "uncalibrated" failures until then).
    sizing = [size.cpus, size.memory_mb, 1, CALIBRATION_VERSION]
    if state.get("calibrated") != sizing:
        print(f"init: calibrating cpu.small ({size.cpus:g} CPU) on this machine ...", flush=True)
        print(_run(["calibrate_class", "cpu.small", "--runs", "1"], node_env(args.validators[0])).strip(), flush=True)
        state["calibrated"] = sizing

    state_path.write_text(json.dumps(state))
    os.chmod(state_path, 0o600)
    (STATE / "network.env").write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in sorted(shared.items())))
    credentials = {
        "api_token": state["api_token"],
        "admin_username": "admin",
        "admin_password": state["admin_password"],
        "nodes": [{"name": n, "role": roles[n], "hotkey": hotkeys[n].ss58} for n in names],
    }
    (STATE / "credentials.json").write_text(json.dumps(credentials, indent=2) + "\n")
    os.chmod(STATE / "credentials.json", 0o600)
    _hand_to_nodes()
    print(f"init: {len(names)} nodes ready: {', '.join(names)}", flush=True)


def _hand_to_nodes() -> None:
    """The nodes run as NODE_UID: they read the keys, certificates and network.env (0600 stays),
    and write the facilitator's staging volume."""
    if STAGING.is_dir():
        os.chown(STAGING, NODE_UID, NODE_UID)
    for path in [STATE, *STATE.rglob("*")]:
        if path.name not in ("state.json", "credentials.json", "plan.json"):
            os.chown(path, NODE_UID, NODE_UID)


if __name__ == "__main__":
    main()
