"""Peers below the subnet's minimum version are refused with a typed reason on both ends: the
serving consumer refuses an old dialer's hello, the dialer refuses an old server's reply, and
either side reads the other's refusal as a VersionRefusal."""

import json
from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path
from prometheus_client import REGISTRY
from pydantic import TypeAdapter, create_model
from websockets.asyncio.server import ServerConnection, serve

from protocol.consumer import CloseCode
from protocol.dialer import dial
from protocol.handshake import handshake_build
from protocol.keys import Hotkey, hotkey_create
from protocol.limits import peer_key_for_hotkey
from protocol.messages.common import ErrorCode, ErrorMessage, Handshake, Message
from protocol.version import NODE_VERSION
from protocol.version_gate import VersionRefusal
from protocol.wire import ProtocolError, decode, encode

# Its autouse reset too: EchoConsumer's class-level lists would carry test_consumer.py's last peers here.
from tests.protocol.test_consumer import EchoConsumer, fresh_consumer_state  # noqa: F401

PATH = "/v1/echo/"
application = URLRouter([path("v1/echo/", EchoConsumer.as_asgi())])
# The handshake model of a node from before `node_version` (0.1.x): strict, so the field is an error.
_OLD_FIELDS: dict[str, Any] = {
    name: (field.annotation, field) for name, field in Handshake.model_fields.items() if name != "node_version"
}
OldHandshake = create_model("OldHandshake", __base__=Message, **_OLD_FIELDS)


@pytest.fixture
def minimum(settings: Any) -> str:
    settings.MESHWORK_MIN_VERSION = "0.2.0"
    return "0.2.0"


async def _hello(comm: WebsocketCommunicator, dialer: Hotkey, node_key: Hotkey, version: str | None) -> None:
    hello = handshake_build(hotkey=dialer, peer_hotkey=node_key.ss58, path=PATH, node_version=version)
    await comm.send_to(text_data=encode(hello))


async def _open() -> WebsocketCommunicator:
    comm = WebsocketCommunicator(application, PATH)
    assert (await comm.connect())[0]
    return comm


@pytest.mark.usefixtures("server_nonces", "minimum")
@pytest.mark.parametrize(
    ("version", "detail"),
    [
        ("0.1.0", "peer runs 0.1.0; this subnet requires >= 0.2.0"),
        (None, "peer announced no version; this subnet requires >= 0.2.0"),
    ],
)
async def test_the_consumer_refuses_an_old_dialer_with_the_typed_reason(
    dialer, node_key, server_limits, settings, version, detail
):
    settings.PROTOCOL_BAN_STRIKES = 1  # a single strike would ban
    comm = await _open()
    await _hello(comm, dialer, node_key, version)
    assert await comm.receive_json_from(timeout=3) == {"type": "error", "code": "version_too_old", "detail": detail}
    event = await comm.receive_output(timeout=2)
    assert (event["type"], event["code"]) == ("websocket.close", CloseCode.VERSION_TOO_OLD)
    assert EchoConsumer.authenticated == []
    # An honest old node is not misbehaving: no strike towards a ban.
    assert await server_limits.ban_get(peer_key_for_hotkey(dialer.ss58)) is None


@pytest.mark.usefixtures("server_nonces", "minimum")
async def test_the_consumer_admits_a_current_dialer_and_announces_itself(dialer, node_key):
    comm = await _open()
    await _hello(comm, dialer, node_key, NODE_VERSION)
    reply = await comm.receive_json_from(timeout=3)
    assert (reply["type"], reply["node_version"]) == ("handshake", NODE_VERSION)
    assert EchoConsumer.authenticated == [dialer.ss58]
    await comm.disconnect()


@pytest.mark.usefixtures("server_nonces")
async def test_without_a_minimum_an_old_dialer_gets_a_reply_it_can_read(dialer, node_key):
    comm = await _open()
    await _hello(comm, dialer, node_key, None)
    raw = await comm.receive_from(timeout=3)
    assert "node_version" not in json.loads(raw)
    decode(TypeAdapter(OldHandshake), raw, max_bytes=64 * 1024)  # what a 0.1.x dialer does with it
    await comm.disconnect()


# --- the dialing side, against servers in this process


async def _server(answer):
    async def handler(ws: ServerConnection) -> None:
        raw = await ws.recv()
        await ws.send(answer(raw))
        async for frame in ws:
            await ws.send(frame)

    return await serve(handler, "127.0.0.1", 0)


def _url(server) -> str:
    host, port = next(iter(server.sockets)).getsockname()[:2]
    return f"ws://{host}:{port}{PATH}"


def _server_running(server_key: Hotkey, version: str | None):
    def answer(raw: str) -> str:
        hello = Handshake.model_validate_json(raw)
        reply = handshake_build(
            hotkey=server_key, peer_hotkey=hello.hotkey, path=PATH, peer_nonce=hello.nonce, node_version=version
        )
        return encode(reply)

    return answer


def _old_server(server_key: Hotkey, hellos: list[str]):
    """A 0.1.x node: its strict model rejects a hello with `node_version` as a 0.1.x node would."""

    def answer(raw: str) -> str:
        hellos.append(raw)
        try:
            decode(TypeAdapter(OldHandshake), raw, max_bytes=64 * 1024)
        except ProtocolError as exc:
            return encode(exc.as_message())
        hello = Handshake.model_validate_json(raw)
        reply = handshake_build(
            hotkey=server_key, peer_hotkey=hello.hotkey, path=PATH, peer_nonce=hello.nonce, node_version=None
        )
        return encode(reply)

    return answer


async def _dial(server, dialer: Hotkey, peer: str, nonces) -> str:
    async with dial(url=_url(server), path=PATH, hotkey=dialer, peer_hotkey=peer, nonces=nonces, timeout=3) as conn:
        return conn.peer_hotkey


@pytest.mark.usefixtures("minimum")
@pytest.mark.parametrize(
    ("version", "detail"),
    [
        ("0.1.5", "peer runs 0.1.5; this subnet requires >= 0.2.0"),
        (None, "peer announced no version; this subnet requires >= 0.2.0"),
    ],
)
async def test_the_dialer_refuses_an_old_server(dialer, nonces, version, detail, caplog):
    server_key = hotkey_create()[0]
    async with await _server(_server_running(server_key, version)) as server:
        with pytest.raises(VersionRefusal) as info:
            await _dial(server, dialer, server_key.ss58, nonces)
    assert (info.value.code, info.value.detail) == (ErrorCode.VERSION_TOO_OLD, detail)


@pytest.mark.usefixtures("minimum")
async def test_the_dialer_admits_a_current_server(dialer, nonces):
    server_key = hotkey_create()[0]
    async with await _server(_server_running(server_key, NODE_VERSION)) as server:
        assert await _dial(server, dialer, server_key.ss58, nonces) == server_key.ss58


async def test_a_dialer_refused_as_too_old_says_so(dialer, nonces, caplog):
    server_key = hotkey_create()[0]
    refusal = ErrorMessage(code=ErrorCode.VERSION_TOO_OLD, detail="peer runs 0.2.0; this subnet requires >= 0.3.0")
    async with await _server(lambda raw: encode(refusal)) as server:
        with pytest.raises(VersionRefusal) as info:
            await _dial(server, dialer, server_key.ss58, nonces)
    assert info.value.detail == "refused by the peer: peer runs 0.2.0; this subnet requires >= 0.3.0"
    assert "refused by the peer: peer runs 0.2.0" in caplog.text


async def test_without_a_minimum_the_dialer_still_reaches_an_old_server(dialer, nonces):
    server_key = hotkey_create()[0]
    hellos: list[str] = []
    async with await _server(_old_server(server_key, hellos)) as server:
        assert await _dial(server, dialer, server_key.ss58, nonces) == server_key.ss58
    # First with its version (refused as malformed by the old model), then again without it.
    assert ["node_version" in json.loads(raw) for raw in hellos] == [True, False]


@pytest.mark.usefixtures("minimum")
async def test_with_a_minimum_an_old_server_is_refused_as_too_old(dialer, nonces):
    server_key = hotkey_create()[0]
    hellos: list[str] = []
    async with await _server(_old_server(server_key, hellos)) as server:
        with pytest.raises(VersionRefusal) as info:
            await _dial(server, dialer, server_key.ss58, nonces)
    assert info.value.detail == "peer predates version announcements; this subnet requires >= 0.2.0"
    assert len(hellos) == 1


# --- the sessions gauge of /metrics/


def _sessions() -> float:
    return REGISTRY.get_sample_value("meshwork_peer_sessions", {"path": PATH}) or 0.0


@pytest.mark.usefixtures("server_nonces")
async def test_an_authenticated_session_counts_until_it_closes(dialer, node_key):
    before = _sessions()
    comm = await _open()
    await _hello(comm, dialer, node_key, NODE_VERSION)
    await comm.receive_json_from(timeout=3)
    assert _sessions() == before + 1
    await comm.disconnect()
    assert _sessions() == before


@pytest.mark.usefixtures("server_nonces", "minimum")
async def test_a_refused_handshake_is_no_session(dialer, node_key):
    before = _sessions()
    comm = await _open()
    await _hello(comm, dialer, node_key, "0.0.1")
    await comm.receive_json_from(timeout=3)
    await comm.receive_output(timeout=2)
    assert _sessions() == before
