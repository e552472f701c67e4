"""One more node for a running local network (`make node ROLE=miner|validator`): what an operator
does for a new node (keygen, `chain register | stake | serve`), done here — a key pair,
registration, stake and the served address on the network's chain, a database of its own, its
TLS certificate — then its processes (the node, its DHT node on the network's bootnode, its
Celery worker and beat) and a wait until its peers see it.

The node takes the next free name (`miner4`, `validator2`, ...). Its keys and database are kept in
`$LOCALNET_DIR`, so joining again with that name is the same node coming back."""

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deploy.localnet.databases import ensure_databases
from deploy.localnet.network import LocalNetwork, Node
from deploy.localnet.ports import free_ports
from deploy.localnet.readiness import dht_online_miners, http_ok, validators_connected
from deploy.localnet.sizing import manage_checked
from deploy.localnet.tls import cert_ensure

ROLES = ("miner", "validator")


class JoinError(Exception):
    """The node could not join; the message is one line for the operator."""


def role_checked(role: str) -> str:
    role = role.strip().lower()
    if role not in ROLES:
        raise JoinError(f"ROLE must be one of {', '.join(ROLES)}, not {role!r} (e.g. `make node ROLE=miner`)")
    return role


@contextmanager
def credentials_locked(directory: Path) -> Iterator[dict[str, object]]:
    """credentials.json, read and written back under a lock: two joins never take one name."""
    path = directory / "credentials.json"
    with (directory / ".credentials.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        credentials: dict[str, object] = json.loads(path.read_text())
        yield credentials
        path.write_text(json.dumps(credentials, indent=2) + "\n")
        os.chmod(path, 0o600)


def _listed(credentials: dict[str, object]) -> list[dict[str, str]]:
    nodes = credentials.setdefault("nodes", [])
    assert isinstance(nodes, list)
    return nodes


def node_add(network: LocalNetwork, role: str) -> Node:
    """Names the node and gives it ports, listed in credentials.json's `nodes` (until it leaves)."""
    if network.config.chain != "local":
        raise JoinError("`make node` joins a network on the local chain only (LOCALNET_CHAIN=local)")
    with credentials_locked(network.dir) as credentials:
        taken = {n["name"] for n in _listed(credentials)} | {n.name for n in network.nodes}
        index = next(i for i in range(1, 10_000) if f"{role}{i}" not in taken)
        stake = network.config.min_validator_stake * (10 if role == "validator" else 1)
        port, dht_port, tls_port = free_ports(3)
        node = network._node(f"{role}{index}", role, port, stake)
        node.dht_port = dht_port
        if network.config.tls and role == "miner":  # miners serve node-to-node TLS, validators dial
            node.tls_port = tls_port
            cert_ensure(network.dir / "tls", node.name)
        _listed(credentials).append({"name": node.name, "role": role, "hotkey": node.hotkey.ss58, "url": node.url})
    network.nodes.append(node)
    return node


def node_remove(network: LocalNetwork, node: Node) -> None:
    with credentials_locked(network.dir) as credentials:
        credentials["nodes"] = [n for n in _listed(credentials) if n["name"] != node.name]


def node_register(network: LocalNetwork, node: Node) -> None:
    """Its database, then registration, stake and served address on the chain: the plan the
    network's own nodes were registered with (`manage.py localnet_bootstrap`, idempotent), run as
    the facilitator, whose metagraph so has the new node at once (a validator is admitted)."""
    config = network.config
    name = f"{config.db_prefix}_{node.name}"
    template = f"{config.db_prefix}_template"
    env = network._env(node)
    ensure_databases(template=template, names=[name], env=env, migrate_existing=True, port=config.postgres_port)
    state = json.loads((network.dir / "state.json").read_text())
    plan = {
        "nodes": [
            {"hotkey": node.hotkey.ss58, "coldkey": node.coldkey, "role": node.role, "stake": node.stake}
            | {"address": node.address}
        ],
        "user": {"username": "admin", "password": state["admin_password"], "credits": config.credits},
    }
    plan_path = network.dir / f"plan-{node.name}.json"
    plan_path.write_text(json.dumps(plan))
    os.chmod(plan_path, 0o600)  # the admin password
    manage_checked(["localnet_bootstrap", str(plan_path)], network._env(network.nodes[0]))


def node_ready(network: LocalNetwork, node: Node) -> bool:
    """A miner: serving, and every validator's DHT node has its ONLINE heartbeat. A validator:
    serving, holding a session with the facilitator, and seeing every miner in the DHT."""
    if not http_ok(node.health_url):
        return False
    port = network.config.postgres_port
    db = network.config.db_prefix
    if node.role == "miner":
        if not network.config.dht:
            return True
        validators = [n for n in network.nodes if n.role == "validator" and n is not node]
        return all(
            node.hotkey.ss58 in dht_online_miners(database=f"{db}_{v.name}", holder=v.hotkey.ss58, port=port)
            for v in validators
        )
    connected = validators_connected(database=f"{db}_facilitator", port=port)
    return node.hotkey.ss58 in connected and network._sees_miners_in_dht(node)


def node_wait_ready(network: LocalNetwork, node: Node, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in node.procs:
            if not proc.alive:
                raise JoinError(f"{proc.name} exited with {proc.popen and proc.popen.returncode}:\n{proc.tail()}")
        if node_ready(network, node):
            return
        time.sleep(0.5)
    raise JoinError(f"{node.name} not seen by the network after {timeout:.0f}s; see {network.dir / 'logs'}")
