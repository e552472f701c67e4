"""What a running local network publishes for `make node` in `$LOCALNET_DIR/network.json`: its
configuration, where every node listens and the orchestrator's pid. A joining node rebuilds the
network from it, so its environment is made by the same code as every other node's
(LocalNetwork._env) and cannot drift from it.

credentials.json stays the user's file (DESIGN.md "Commands"); network.json is the nodes' and
is removed when the network stops, so a join finds out that nothing is running."""

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from deploy.localnet.network import LocalNetwork, NetworkConfig, Node
from deploy.localnet.readiness import http_ok

FILENAME = "network.json"
FORMAT = 1  # bump when the layout changes: a join refuses a file it cannot read


class NoNetworkError(Exception):
    """No local network is running in the directory (or it cannot be joined)."""


def network_publish(network: LocalNetwork, *, pid: int | None = None) -> Path:
    config = dataclasses.asdict(network.config)
    config["directory"] = str(network.config.directory)
    config["celery_roles"] = sorted(network.config.celery_roles)
    nodes = [
        {"name": n.name, "role": n.role, "port": n.port, "stake": n.stake}
        | {"dht_port": n.dht_port, "tls_port": n.tls_port}
        for n in network.nodes
    ]
    published = {
        "format": FORMAT,
        "pid": os.getpid() if pid is None else pid,
        "config": config,
        "dht_bootnode_port": network.dht_bootnode_port,
        "chain_endpoint": network.chain_endpoint,
        "credentials": network.credentials,
        "nodes": nodes,
    }
    path = network.dir / FILENAME
    path.write_text(json.dumps(published, indent=2) + "\n")
    os.chmod(path, 0o600)  # holds the admin password, like credentials.json
    return path


def network_unpublish(directory: Path) -> None:
    (directory / FILENAME).unlink(missing_ok=True)


def published_network(directory: Path) -> LocalNetwork:
    """The running network in `directory`, rebuilt from network.json; NoNetworkError (one line)
    when none is running there."""
    path = directory / FILENAME
    start_hint = "start one with `make localnet` (same LOCALNET_DIR) first"
    if not path.exists():
        raise NoNetworkError(f"no local network is running in {directory}: {start_hint}")
    try:
        published: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise NoNetworkError(f"{path} is unreadable ({exc}): restart `make localnet`") from exc
    if published.get("format") != FORMAT:
        raise NoNetworkError(f"{path} is from another version of Meshwork: restart `make localnet`")
    if not _pid_alive(int(published["pid"])):
        raise NoNetworkError(f"the local network in {directory} has stopped: {start_hint}")
    network = _rebuild(published)
    if not http_ok(network.nodes[0].health_url):
        raise NoNetworkError(f"the facilitator at {network.nodes[0].url} does not answer: is `make localnet` up?")
    return network


def _rebuild(published: dict[str, Any]) -> LocalNetwork:
    raw = dict(published["config"])
    raw["directory"] = Path(raw["directory"])
    raw["celery_roles"] = frozenset(raw["celery_roles"])
    known = {f.name for f in dataclasses.fields(NetworkConfig)}
    network = LocalNetwork(NetworkConfig(**{k: v for k, v in raw.items() if k in known}))
    for spec in published["nodes"]:
        network.nodes.append(node_from_spec(network, spec))
    network.dht_bootnode_port = int(published["dht_bootnode_port"])
    network.chain_endpoint = str(published["chain_endpoint"])
    network.credentials = dict(published["credentials"])
    return network


def node_from_spec(network: LocalNetwork, spec: dict[str, Any]) -> Node:
    node = network._node(spec["name"], spec["role"], int(spec["port"]), int(spec["stake"]))
    node.dht_port, node.tls_port = int(spec["dht_port"]), int(spec["tls_port"])
    return node


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True
