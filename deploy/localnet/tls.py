"""TLS on the local network, on by default (`LOCALNET_TLS=0` turns it off; docs/tls.md).

The facilitator and each miner get a self-signed certificate (made once, kept with the network's
data) and serve node-to-node traffic on a TLS port of their own; their user-facing REST stays
plain on their usual port (`node.url`). Validators dial with `TLS_PEERS`, so they refuse plain
websockets and pin each certificate to the fingerprint its node's hotkey signs."""

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from deploy.localnet.ports import free_ports
from protocol.tls import self_signed_cert_write

TLS_PORT_OFFSET = 500  # with a fixed LOCALNET_PORT: base+500 the facilitator, base+500+i miner i


class TlsServer(Protocol):
    name: str
    tls_port: int


def localnet_tls_default() -> bool:
    return os.environ.get("LOCALNET_TLS", "1") != "0"


def cert_paths(directory: Path, name: str) -> tuple[Path, Path]:
    return directory / f"{name}.crt", directory / f"{name}.key"


def cert_ensure(directory: Path, name: str, hosts: Sequence[str] = ("127.0.0.1", "localhost")) -> None:
    """The node's certificate and key, made on first use and reused on every later start."""
    cert, key = cert_paths(directory, name)
    if not (cert.exists() and key.exists()):
        self_signed_cert_write(cert_path=cert, key_path=key, common_name=name, hosts=list(hosts))


def tls_env(directory: Path, name: str, tls_port: int, *, enabled: bool) -> dict[str, str]:
    """A node's TLS settings: every node dials its peers over TLS; servers also serve it."""
    if not enabled:
        return {}
    env = {"TLS_PEERS": "1"}
    if tls_port:
        cert, key = cert_paths(directory, name)
        env.update({"TLS_CERT_PATH": str(cert), "TLS_KEY_PATH": str(key), "TLS_PORT": str(tls_port)})
    return env


def tls_assign(servers: Sequence[TlsServer], directory: Path, port_base: int | None) -> None:
    """A TLS port and a certificate for each serving node (free ports when `port_base` is None)."""
    count = len(servers)
    ports = free_ports(count) if port_base is None else [port_base + TLS_PORT_OFFSET + i for i in range(count)]
    for node, port in zip(servers, ports, strict=True):
        node.tls_port = port
        cert_ensure(directory, node.name)
