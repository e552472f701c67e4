"""The local network's TLS: a certificate and a TLS port per serving node, kept across starts."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.localnet.tls import TLS_PORT_OFFSET, cert_paths, localnet_tls_default, tls_assign, tls_env
from protocol.tls import cert_file_fingerprint


@dataclass
class Server:
    name: str
    tls_port: int = 0


def test_each_server_gets_a_port_and_a_certificate_that_later_starts_reuse(tmp_path: Path) -> None:
    servers = [Server("facilitator"), Server("miner1")]
    tls_assign(servers, tmp_path, 8000)
    assert [s.tls_port for s in servers] == [8000 + TLS_PORT_OFFSET, 8001 + TLS_PORT_OFFSET]
    first = {s.name: cert_file_fingerprint(cert_paths(tmp_path, s.name)[0]) for s in servers}
    assert len(set(first.values())) == 2  # one certificate each
    tls_assign(servers, tmp_path, 8000)
    assert {s.name: cert_file_fingerprint(cert_paths(tmp_path, s.name)[0]) for s in servers} == first


def test_test_networks_pick_free_ports(tmp_path: Path) -> None:
    servers = [Server("a"), Server("b")]
    tls_assign(servers, tmp_path, None)
    assert len({s.tls_port for s in servers}) == 2
    assert all(s.tls_port for s in servers)


def test_the_environment_of_servers_and_dialers(tmp_path: Path) -> None:
    cert, key = cert_paths(tmp_path, "miner1")
    assert tls_env(tmp_path, "miner1", 8601, enabled=True) == {
        "TLS_PEERS": "1",
        "TLS_CERT_PATH": str(cert),
        "TLS_KEY_PATH": str(key),
        "TLS_PORT": "8601",
    }
    assert tls_env(tmp_path, "validator1", 0, enabled=True) == {"TLS_PEERS": "1"}
    assert tls_env(tmp_path, "miner1", 8601, enabled=False) == {}


@pytest.mark.parametrize(("value", "on"), [(None, True), ("1", True), ("0", False)])
def test_tls_is_on_unless_localnet_tls_is_0(monkeypatch: pytest.MonkeyPatch, value: str | None, on: bool) -> None:
    if value is None:
        monkeypatch.delenv("LOCALNET_TLS", raising=False)
    else:
        monkeypatch.setenv("LOCALNET_TLS", value)
    assert localnet_tls_default() is on
