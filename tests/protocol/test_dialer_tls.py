"""Dialing over TLS with each certificate pinned to the fingerprint its node's hotkey signs.

A real daphne process serves the consumer base over TLS (and plain on a second port, as a node
does); in-process websockets servers play the peers that present a wrong certificate, and a TLS
relay with its own certificate plays the man in the middle."""

import asyncio
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import TypeAdapter
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from deploy.localnet.ports import free_ports
from protocol.dialer import dial
from protocol.handshake import handshake_build
from protocol.keys import Hotkey, hotkey_create, hotkey_write
from protocol.messages.common import ErrorCode, Handshake
from protocol.messages.facilitator import JobStatusUpdate, ValidatorToFacilitator
from protocol.tls import TlsRefusal, TlsRefusalReason, client_ssl_context, self_signed_cert_write
from protocol.wire import ProtocolError, encode

PATH = "/v1/echo/"
ROOT = Path(__file__).resolve().parents[2]
UPDATE = JobStatusUpdate.model_validate({"job_uuid": "6f1c0a8e-7f38-4a63-9c7a-2f3b1d6c1e11", "status": "running"})


@dataclass
class Cert:
    cert: Path
    key: Path
    fingerprint: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def _cert(directory: Path, name: str) -> Cert:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    digest = self_signed_cert_write(cert_path=cert, key_path=key, common_name=name, hosts=["127.0.0.1"])
    return Cert(cert, key, digest)


@dataclass
class Node:
    hotkey: Hotkey
    cert: Cert
    tls_port: int
    plain_port: int


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path, deadline_s: float = 90.0) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daphne exited: {log.read_text()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"daphne not listening on {port} after {deadline_s:.0f}s")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A daphne process serving the echo consumer with TLS required, like a miner."""
    directory = tmp_path_factory.mktemp("tls-node")
    hotkey, seed = hotkey_create()
    hotkey_write(path=directory / "hotkey.json", hotkey=hotkey, seed_hex=seed)
    cert = _cert(directory, "node")
    tls_port, plain_port = free_ports(2)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "MESHWORK_HOTKEY_PATH": str(directory / "hotkey.json"),
        "MESHWORK_REDIS_PREFIX": f"meshwork-test:{os.environ.get('MESHWORK_TEST_ID', 'main')}:tls-{tls_port}",
        "TLS_CERT_PATH": str(cert.cert),
        "TLS_KEY_PATH": str(cert.key),
        "TLS_PORT": str(tls_port),
    }
    endpoint = f"ssl:port={tls_port}:interface=127.0.0.1:privateKey={cert.key}:certKey={cert.cert}"
    argv = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(plain_port), "-e", endpoint]
    log = directory / "daphne.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*argv, "tests.protocol.tls_echo_app:application"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_listening(tls_port, proc, log)
        _wait_listening(plain_port, proc, log)
        yield Node(hotkey=hotkey, cert=cert, tls_port=tls_port, plain_port=plain_port)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def _echo(url: str, dialer: Hotkey, peer: str, nonces) -> str:
    async with dial(url=url, path=PATH, hotkey=dialer, peer_hotkey=peer, nonces=nonces, timeout=20) as conn:
        await conn.send(UPDATE)
        assert await conn.recv(TypeAdapter(ValidatorToFacilitator), timeout=20) == UPDATE
        return conn.peer_hotkey


async def test_the_right_certificate_connects(node: Node, dialer, nonces):
    url = f"wss://127.0.0.1:{node.tls_port}{PATH}"
    assert await _echo(url, dialer, node.hotkey.ss58, nonces) == node.hotkey.ss58


async def test_a_node_requiring_tls_refuses_plain_ws(node: Node, dialer, nonces):
    with pytest.raises(TlsRefusal) as info:
        await _echo(f"ws://127.0.0.1:{node.plain_port}{PATH}", dialer, node.hotkey.ss58, nonces)
    assert info.value.reason == TlsRefusalReason.PLAIN_REFUSED
    assert info.value.code == ErrorCode.UNAUTHENTICATED


async def test_tls_peers_refuses_to_dial_plain(settings, dialer, nonces):
    settings.TLS_PEERS = True
    with pytest.raises(TlsRefusal) as info:  # before any connection: port 9 would refuse it anyway
        await _echo(f"ws://127.0.0.1:9{PATH}", dialer, hotkey_create()[0].ss58, nonces)
    assert info.value.reason == TlsRefusalReason.PLAIN_REFUSED


Relay = Callable[[ServerConnection], Awaitable[None]]


async def _serving(handler: Relay, cert: Cert):
    return await serve(handler, "127.0.0.1", 0, ssl=cert.server_context())


def _port(server) -> int:
    return next(iter(server.sockets)).getsockname()[1]


async def test_a_relay_with_its_own_certificate_is_refused_by_the_server(node: Node, dialer, nonces, tmp_path):
    """The man in the middle relays every frame both ways, unchanged: the hello the dialer signed
    names the relay's certificate, which the node sees is not its own."""
    mitm = _cert(tmp_path, "mitm")
    relayed: list[str] = []

    async def relay(client: ServerConnection) -> None:
        url = f"wss://127.0.0.1:{node.tls_port}{PATH}"
        async with connect(url, ssl=client_ssl_context()) as upstream:

            async def pump(src, dst) -> None:
                async for frame in src:
                    relayed.append(frame)
                    await dst.send(frame)

            await asyncio.wait(
                [asyncio.create_task(pump(client, upstream)), asyncio.create_task(pump(upstream, client))],
                return_when=asyncio.FIRST_COMPLETED,
            )

    async with await _serving(relay, mitm) as server:
        with pytest.raises(TlsRefusal) as info:
            await _echo(f"wss://127.0.0.1:{_port(server)}{PATH}", dialer, node.hotkey.ss58, nonces)
    assert info.value.reason == TlsRefusalReason.FINGERPRINT_MISMATCH
    assert any("tls fingerprint_mismatch" in str(frame) for frame in relayed), "the node itself refused"


def _replying(server_key: Hotkey, signed: Callable[[Handshake], str | None]) -> Relay:
    """A server that answers the hello with a correctly signed reply naming `signed(hello)`."""

    async def handler(ws: ServerConnection) -> None:
        hello = Handshake.model_validate_json(await ws.recv())
        fingerprint = signed(hello)
        reply = handshake_build(
            hotkey=server_key, peer_hotkey=hello.hotkey, path=PATH, peer_nonce=hello.nonce, tls_fingerprint=fingerprint
        )
        await ws.send(encode(reply))
        async for frame in ws:
            await ws.send(frame)

    return handler


async def test_a_relay_that_forwards_the_real_signed_reply_is_refused_by_the_dialer(dialer, nonces, tmp_path):
    """The node's reply signs its own certificate; the dialer was shown the relay's."""
    real, relay_cert = _cert(tmp_path, "real"), _cert(tmp_path, "relay")
    server_key = hotkey_create()[0]
    async with await _serving(_replying(server_key, lambda hello: real.fingerprint), relay_cert) as server:
        with pytest.raises(TlsRefusal) as info:
            await _echo(f"wss://127.0.0.1:{_port(server)}{PATH}", dialer, server_key.ss58, nonces)
    assert info.value.reason == TlsRefusalReason.FINGERPRINT_MISMATCH


@pytest.mark.parametrize("name", ["another node's", "a fresh self-signed"])
async def test_a_wrong_certificate_is_refused(name, node: Node, dialer, nonces, tmp_path):
    """The peer's key signs one certificate while the channel presents another: `node`'s own
    certificate (another node's) or a fresh one."""
    presented = node.cert if name == "another node's" else _cert(tmp_path, "fresh")
    signed = _cert(tmp_path, "signed")
    server_key = hotkey_create()[0]
    async with await _serving(_replying(server_key, lambda hello: signed.fingerprint), presented) as server:
        with pytest.raises(TlsRefusal) as info:
            await _echo(f"wss://127.0.0.1:{_port(server)}{PATH}", dialer, server_key.ss58, nonces)
    assert info.value.reason == TlsRefusalReason.FINGERPRINT_MISMATCH


async def test_a_tls_server_that_signs_no_fingerprint_is_refused(dialer, nonces, tmp_path):
    server_key = hotkey_create()[0]
    async with await _serving(_replying(server_key, lambda hello: None), _cert(tmp_path, "quiet")) as server:
        with pytest.raises(TlsRefusal) as info:
            await _echo(f"wss://127.0.0.1:{_port(server)}{PATH}", dialer, server_key.ss58, nonces)
    assert info.value.reason == TlsRefusalReason.FINGERPRINT_MISSING


async def test_an_honest_tls_server_is_accepted_and_sees_its_certificate_in_the_hello(dialer, nonces, tmp_path):
    cert = _cert(tmp_path, "honest")
    server_key = hotkey_create()[0]
    hellos: list[Handshake] = []

    def own(hello: Handshake) -> str:
        hellos.append(hello)
        return cert.fingerprint

    async with await _serving(_replying(server_key, own), cert) as server:
        assert await _echo(f"wss://127.0.0.1:{_port(server)}{PATH}", dialer, server_key.ss58, nonces)
    assert hellos[0].tls_fingerprint == cert.fingerprint


async def test_a_server_error_that_is_not_about_tls_stays_a_protocol_error(dialer, nonces, tmp_path):
    async def refuse(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send('{"type": "error", "code": "unauthorized", "detail": "stake too low"}')

    async with await _serving(refuse, _cert(tmp_path, "picky")) as server:
        with pytest.raises(ProtocolError) as info:
            await _echo(f"wss://127.0.0.1:{_port(server)}{PATH}", dialer, hotkey_create()[0].ss58, nonces)
    assert not isinstance(info.value, TlsRefusal)
    assert (info.value.code, info.value.detail) == (ErrorCode.UNAUTHORIZED, "stake too low")
