"""The dialing side against a real websocket server in this process."""

import json
from collections.abc import Callable

import pytest
from pydantic import TypeAdapter
from websockets.asyncio.server import ServerConnection, serve

from protocol.dialer import dial
from protocol.handshake import handshake_build
from protocol.keys import Hotkey, hotkey_create
from protocol.messages.common import ErrorCode, ErrorMessage, Handshake
from protocol.messages.facilitator import JobStatusUpdate, ValidatorToFacilitator
from protocol.wire import ProtocolError, encode

PATH = "/v1/facilitator/"
Reply = Callable[[Handshake], str]


@pytest.fixture
def server_key() -> Hotkey:
    return hotkey_create("ed25519")[0]


async def _server(reply: Reply):
    """Answers the first frame with `reply(hello)`, then echoes frames back."""

    async def handler(ws: ServerConnection) -> None:
        hello = Handshake.model_validate_json(await ws.recv())
        await ws.send(reply(hello))
        async for frame in ws:
            await ws.send(frame)

    return await serve(handler, "127.0.0.1", 0)


def _url(server) -> str:
    host, port = next(iter(server.sockets)).getsockname()[:2]
    return f"ws://{host}:{port}{PATH}"


async def _dial(server, dialer, peer: str, nonces):
    async with dial(url=_url(server), path=PATH, hotkey=dialer, peer_hotkey=peer, nonces=nonces, timeout=3) as conn:
        update = JobStatusUpdate.model_validate(
            {"job_uuid": "6f1c0a8e-7f38-4a63-9c7a-2f3b1d6c1e11", "status": "running"}
        )
        await conn.send(update)
        echoed = await conn.recv(TypeAdapter(ValidatorToFacilitator), timeout=3)
        assert echoed == update
        return conn.peer_hotkey


async def test_dial_completes_the_mutual_handshake(dialer, server_key, nonces):
    seen: list[Handshake] = []

    def honest(hello: Handshake) -> str:
        seen.append(hello)
        return encode(handshake_build(hotkey=server_key, peer_hotkey=hello.hotkey, path=PATH, peer_nonce=hello.nonce))

    async with await _server(honest) as server:
        assert await _dial(server, dialer, server_key.ss58, nonces) == server_key.ss58
    assert (seen[0].hotkey, seen[0].peer_hotkey, seen[0].path) == (dialer.ss58, server_key.ss58, PATH)


async def test_server_error_reply_raises_its_code(dialer, server_key, nonces):
    def refuse(hello: Handshake) -> str:
        return encode(ErrorMessage(code=ErrorCode.UNAUTHORIZED, detail="stake too low"))

    async with await _server(refuse) as server:
        with pytest.raises(ProtocolError) as info:
            await _dial(server, dialer, server_key.ss58, nonces)
    assert (info.value.code, info.value.detail) == (ErrorCode.UNAUTHORIZED, "stake too low")


async def test_reply_not_answering_our_nonce_is_refused(dialer, server_key, nonces):
    def stale_reply(hello: Handshake) -> str:
        return encode(handshake_build(hotkey=server_key, peer_hotkey=hello.hotkey, path=PATH, peer_nonce="ab" * 16))

    async with await _server(stale_reply) as server:
        with pytest.raises(ProtocolError, match="nonce") as info:
            await _dial(server, dialer, server_key.ss58, nonces)
    assert info.value.code == ErrorCode.UNAUTHENTICATED


async def test_impostor_server_is_refused(dialer, server_key, nonces):
    impostor = hotkey_create()[0]

    def impersonate(hello: Handshake) -> str:
        return encode(handshake_build(hotkey=impostor, peer_hotkey=hello.hotkey, path=PATH, peer_nonce=hello.nonce))

    async with await _server(impersonate) as server:
        with pytest.raises(ProtocolError, match="expected"):
            await _dial(server, dialer, server_key.ss58, nonces)


async def test_forged_reply_is_refused(dialer, server_key, nonces):
    def forge(hello: Handshake) -> str:
        reply = handshake_build(hotkey=server_key, peer_hotkey=hello.hotkey, path=PATH, peer_nonce=hello.nonce)
        body = json.loads(encode(reply))
        body["signature"] = hotkey_create()[0].sign(b"x")
        return json.dumps(body)

    async with await _server(forge) as server:
        with pytest.raises(ProtocolError, match="bad signature"):
            await _dial(server, dialer, server_key.ss58, nonces)


async def test_garbage_reply_is_malformed(dialer, server_key, nonces):
    async with await _server(lambda hello: "not a handshake") as server:
        with pytest.raises(ProtocolError) as info:
            await _dial(server, dialer, server_key.ss58, nonces)
    assert info.value.code == ErrorCode.MALFORMED


async def test_unreachable_peer_raises_oserror(dialer, server_key, nonces):
    server = await _server(lambda hello: "")
    url = _url(server)
    server.close()
    await server.wait_closed()
    with pytest.raises(ConnectionRefusedError):
        async with dial(url=url, path=PATH, hotkey=dialer, peer_hotkey=server_key.ss58, nonces=nonces, timeout=2):
            pass
