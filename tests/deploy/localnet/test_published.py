"""network.json: what a running local network publishes so `make node` can rebuild it, and the
one-line refusals when nothing is running there."""

import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.localnet.network import LocalNetwork, NetworkConfig
from deploy.localnet.ports import free_ports
from deploy.localnet.published import NoNetworkError, network_publish, network_unpublish, published_network


class _Healthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz/" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def facilitator_port() -> Iterator[int]:
    """A server answering /healthz/ where the published facilitator listens."""
    server = http.server.HTTPServer(("127.0.0.1", free_ports(1)[0]), _Healthy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def _network(directory: Path, facilitator_port: int) -> LocalNetwork:
    config = NetworkConfig(directory=directory, db_prefix="meshwork_t", extra_env={"LOG_LEVEL": "INFO"}, cycle_s=40)
    net = LocalNetwork(config)
    net.nodes = [
        net._node("facilitator", "facilitator", facilitator_port, 0),
        net._node("validator1", "validator", 18200, 10_000),
        net._node("miner1", "miner", 18100, 1000),
    ]
    net.nodes[2].dht_port, net.nodes[2].tls_port = 18301, 18501
    net.nodes[0].tls_port = 18500
    net.dht_bootnode_port = 18400
    net.credentials = {"facilitator_url": f"http://127.0.0.1:{facilitator_port}", "api_token": "t"}
    return net


def test_a_rebuilt_network_gives_a_node_the_same_environment(tmp_path: Path, facilitator_port: int) -> None:
    net = _network(tmp_path, facilitator_port)
    path = network_publish(net)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    rebuilt = published_network(tmp_path)
    assert [n.name for n in rebuilt.nodes] == ["facilitator", "validator1", "miner1"]
    assert rebuilt.config == net.config
    assert rebuilt.credentials == net.credentials
    for original, again in zip(net.nodes, rebuilt.nodes, strict=True):
        assert rebuilt._env(again) == net._env(original)


def test_no_network_json_means_no_network(tmp_path: Path) -> None:
    with pytest.raises(NoNetworkError, match=f"no local network is running in {tmp_path}: start one"):
        published_network(tmp_path)


def test_unpublishing_is_what_a_stopped_network_leaves(tmp_path: Path, facilitator_port: int) -> None:
    network_publish(_network(tmp_path, facilitator_port))
    network_unpublish(tmp_path)
    network_unpublish(tmp_path)  # twice is fine: a stop after a failed start
    with pytest.raises(NoNetworkError, match="no local network is running"):
        published_network(tmp_path)


def test_a_dead_orchestrator_means_a_stopped_network(tmp_path: Path, facilitator_port: int) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    network_publish(_network(tmp_path, facilitator_port), pid=gone.pid)
    with pytest.raises(NoNetworkError, match="has stopped"):
        published_network(tmp_path)


def test_a_silent_facilitator_is_named(tmp_path: Path) -> None:
    silent = free_ports(1)[0]
    network_publish(_network(tmp_path, silent))
    with pytest.raises(NoNetworkError, match=f"the facilitator at http://127.0.0.1:{silent} does not answer"):
        published_network(tmp_path)


@pytest.mark.parametrize(("body", "says"), [("{not json", "is unreadable"), ('{"format": 99}', "another version")])
def test_a_damaged_or_foreign_file_is_refused(tmp_path: Path, body: str, says: str) -> None:
    (tmp_path / "network.json").write_text(body)
    with pytest.raises(NoNetworkError, match=says):
        published_network(tmp_path)


def test_the_file_lists_every_node_with_its_ports(tmp_path: Path, facilitator_port: int) -> None:
    published = json.loads(network_publish(_network(tmp_path, facilitator_port)).read_text())
    miner = next(n for n in published["nodes"] if n["name"] == "miner1")
    assert miner == {
        "name": "miner1",
        "role": "miner",
        "port": 18100,
        "stake": 1000,
        "dht_port": 18301,
        "tls_port": 18501,
    }
    assert published["dht_bootnode_port"] == 18400
