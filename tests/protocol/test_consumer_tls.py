"""The consumer base with a TLS certificate configured (the channel itself is tested over real
TLS in test_dialer_tls.py): what it signs, what it refuses, and a certificate gone missing."""

import pytest
from channels.testing import WebsocketCommunicator

from protocol.consumer import CloseCode
from protocol.handshake import handshake_build
from protocol.messages.common import Handshake
from protocol.tls import self_signed_cert_write
from tests.protocol.tls_echo_app import PATH, application

pytestmark = pytest.mark.usefixtures("server_nonces")


async def _hello(dialer, node_key, fingerprint: str | None = None) -> tuple[WebsocketCommunicator, dict]:
    comm = WebsocketCommunicator(application, PATH)
    connected, _ = await comm.connect()
    assert connected
    hello = handshake_build(hotkey=dialer, peer_hotkey=node_key.ss58, path=PATH, tls_fingerprint=fingerprint)
    await comm.send_to(text_data=hello.model_dump_json())
    return comm, await comm.receive_json_from(timeout=5)


async def _closed_with(comm: WebsocketCommunicator) -> int:
    event = await comm.receive_output(timeout=5)
    assert event["type"] == "websocket.close"
    return event["code"]


@pytest.fixture
def cert(settings, tmp_path) -> str:
    path = tmp_path / "n.crt"
    digest = self_signed_cert_write(cert_path=path, key_path=tmp_path / "n.key", common_name="n", hosts=[])
    settings.TLS_CERT_PATH, settings.TLS_REQUIRED = str(path), True
    return digest


async def test_a_hello_naming_our_certificate_gets_a_reply_that_signs_it(cert, dialer, node_key):
    comm, reply = await _hello(dialer, node_key, cert)
    assert Handshake.model_validate(reply).tls_fingerprint == cert
    await comm.disconnect()


async def test_a_plain_hello_is_refused_when_tls_is_required(cert, dialer, node_key):
    comm, reply = await _hello(dialer, node_key)
    assert (reply["code"], reply["detail"].split(":")[0]) == ("unauthenticated", "tls plain_refused")
    assert await _closed_with(comm) == CloseCode.UNAUTHENTICATED


async def test_without_tls_required_a_plain_hello_is_served_and_still_told_the_fingerprint(
    cert, settings, dialer, node_key
):
    settings.TLS_REQUIRED = False
    comm, reply = await _hello(dialer, node_key)
    assert Handshake.model_validate(reply).tls_fingerprint == cert
    await comm.disconnect()


async def test_a_certificate_gone_missing_is_a_typed_error_not_a_crash(settings, tmp_path, dialer, node_key):
    settings.TLS_CERT_PATH = str(tmp_path / "gone.crt")
    comm, reply = await _hello(dialer, node_key, "a" * 64)
    assert reply == {"type": "error", "code": "internal", "detail": "this node cannot read its TLS certificate"}
    assert await _closed_with(comm) == CloseCode.UNAUTHENTICATED
