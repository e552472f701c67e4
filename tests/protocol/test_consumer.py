"""The consumer base every serving role builds on (protocol/consumer.py), through a tiny subclass
with a dispatch table: handshake first, then typed dispatch; malformed, unknown, oversized frames
and failing handlers get typed errors and the connection keeps serving."""

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, ClassVar

import pytest
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path
from pydantic import Field, TypeAdapter
from redis.exceptions import ConnectionError as RedisConnectionError

from protocol.consumer import CRASH_CLOSE_CODE, CloseCode, SignedConsumer
from protocol.handshake import handshake_build, handshake_verify
from protocol.keys import Hotkey, hotkey_create
from protocol.messages.common import Handshake
from protocol.messages.miner import JobAccepted, JobCancel, JobReserve
from protocol.nonces import RedisNonceStore
from tests.factories import job_accepted, signed_reserve
from tests.faults.services import PrivateRedis

PATH = "/v1/echo/"
REFUSED_REASON = "not on the guest list"
Incoming = Annotated[JobReserve | JobCancel, Field(discriminator="type")]
pytestmark = pytest.mark.usefixtures("server_nonces")
SIGNER = hotkey_create()[0]  # signs the reservations' receipts (the echo does not read them)


class EchoConsumer(SignedConsumer[Any]):
    """Accepts reservations; a cancel makes its handler crash. Peers in `refused` are refused."""

    incoming = TypeAdapter(Incoming)
    path = PATH
    handshake_timeout_s = 0.3
    refused: ClassVar[set[str]] = set()
    authenticated: ClassVar[list[str]] = []

    async def authorize(self, peer_hotkey: str) -> str | None:
        return REFUSED_REASON if peer_hotkey in self.refused else None

    async def on_authenticated(self) -> None:
        assert self.peer_hotkey is not None
        self.authenticated.append(self.peer_hotkey)

    async def handle(self, message: Any) -> None:
        handlers: dict[type, Callable[[Any], Awaitable[None]]] = {JobReserve: self._reserve, JobCancel: self._cancel}
        await handlers[type(message)](message)

    async def _reserve(self, message: JobReserve) -> None:
        await self.send_message(job_accepted(message, SIGNER))

    async def _cancel(self, message: JobCancel) -> None:
        raise RuntimeError("handler bug")


application = URLRouter([path("v1/echo/", EchoConsumer.as_asgi())])


@pytest.fixture(autouse=True)
def fresh_consumer_state() -> None:
    EchoConsumer.refused = set()
    EchoConsumer.authenticated = []


async def _open() -> WebsocketCommunicator:
    comm = WebsocketCommunicator(application, PATH)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def _connected(dialer: Hotkey, node_key: Hotkey) -> WebsocketCommunicator:
    comm = await _open()
    await comm.send_to(text_data=handshake_build(hotkey=dialer, peer_hotkey=node_key.ss58, path=PATH).model_dump_json())
    assert (await comm.receive_json_from(timeout=3))["type"] == "handshake"
    return comm


async def _closed_with(comm: WebsocketCommunicator) -> int:
    event = await comm.receive_output(timeout=2)
    assert event["type"] == "websocket.close"
    return event["code"]


def _reserve(job_uuid: uuid.UUID) -> str:
    return signed_reserve(
        validator=SIGNER, miner_hotkey=SIGNER.ss58, job_uuid=job_uuid, image="alpine", timeout_s=5
    ).model_dump_json()


async def test_a_good_handshake_gets_a_signed_reply_then_messages_are_dispatched(
    dialer: Hotkey, node_key: Hotkey, nonces: RedisNonceStore
) -> None:
    comm = await _open()
    hello = handshake_build(hotkey=dialer, peer_hotkey=node_key.ss58, path=PATH)
    await comm.send_to(text_data=hello.model_dump_json())
    reply = Handshake.model_validate(await comm.receive_json_from(timeout=3))
    await handshake_verify(
        message=reply,
        own_hotkey=dialer.ss58,
        path=PATH,
        nonces=nonces,
        max_age_s=60,
        expected_peer=node_key.ss58,
        expected_peer_nonce=hello.nonce,
    )
    assert EchoConsumer.authenticated == [dialer.ss58]

    job_uuid = uuid.uuid4()
    await comm.send_to(text_data=_reserve(job_uuid))
    accepted = JobAccepted.model_validate(await comm.receive_json_from(timeout=2))
    assert accepted.job_uuid == job_uuid
    await comm.disconnect()


async def test_a_message_before_the_handshake_is_refused_and_closes(dialer: Hotkey, node_key: Hotkey) -> None:
    comm = await _open()
    await comm.send_to(text_data=_reserve(uuid.uuid4()))
    error = await comm.receive_json_from(timeout=2)
    assert (error["type"], error["code"]) == ("error", "malformed")
    assert await _closed_with(comm) == CloseCode.UNAUTHENTICATED
    assert EchoConsumer.authenticated == []


async def test_a_hello_meant_for_another_node_is_unauthenticated(
    dialer: Hotkey, node_key: Hotkey, make_hotkey: Callable[..., Hotkey]
) -> None:
    comm = await _open()
    hello = handshake_build(hotkey=dialer, peer_hotkey=make_hotkey().ss58, path=PATH)
    await comm.send_to(text_data=hello.model_dump_json())
    error = await comm.receive_json_from(timeout=2)
    assert (error["type"], error["code"]) == ("error", "unauthenticated")
    assert await _closed_with(comm) == CloseCode.UNAUTHENTICATED


async def test_a_peer_authorize_refuses_gets_the_reason_and_closes(dialer: Hotkey, node_key: Hotkey) -> None:
    EchoConsumer.refused = {dialer.ss58}
    comm = await _open()
    await comm.send_to(text_data=handshake_build(hotkey=dialer, peer_hotkey=node_key.ss58, path=PATH).model_dump_json())
    assert await comm.receive_json_from(timeout=2) == {
        "type": "error",
        "code": "unauthorized",
        "detail": REFUSED_REASON,
    }
    assert await _closed_with(comm) == CloseCode.UNAUTHORIZED
    assert EchoConsumer.authenticated == []


async def test_no_handshake_in_time_closes(node_key: Hotkey) -> None:
    comm = await _open()
    assert await _closed_with(comm) == CloseCode.HANDSHAKE_TIMEOUT


async def test_once_authenticated_the_handshake_timer_no_longer_closes(dialer: Hotkey, node_key: Hotkey) -> None:
    comm = await _connected(dialer, node_key)
    assert await comm.receive_nothing(timeout=EchoConsumer.handshake_timeout_s + 0.2)
    await comm.disconnect()


@pytest.mark.parametrize(
    ("frame", "code", "detail"),
    [
        ("{not json", "malformed", "not JSON"),
        ("[1, 2]", "malformed", "a JSON object with a string 'type'"),
        ('{"type": "job.reserve"}', "malformed", "job_uuid"),
        ('{"type": "chat.hello"}', "unknown_type", "unknown message type 'chat.hello'"),
        ("x" * 2048, "too_large", "exceeds 1024"),
    ],
    ids=["not json", "not an object", "missing field", "unknown type", "too large"],
)
async def test_bad_frames_get_typed_errors_and_the_connection_keeps_serving(
    dialer: Hotkey, node_key: Hotkey, settings: Any, frame: str, code: str, detail: str
) -> None:
    settings.PROTOCOL_MAX_FRAME_BYTES = 1024
    comm = await _connected(dialer, node_key)
    await comm.send_to(text_data=frame)
    error = await comm.receive_json_from(timeout=2)
    assert (error["type"], error["code"]) == ("error", code)
    assert detail in error["detail"]

    job_uuid = uuid.uuid4()
    await comm.send_to(text_data=_reserve(job_uuid))
    assert (await comm.receive_json_from(timeout=2))["job_uuid"] == str(job_uuid)
    await comm.disconnect()


async def test_a_crashing_handler_is_an_internal_error_and_the_connection_keeps_serving(
    dialer: Hotkey, node_key: Hotkey, caplog: pytest.LogCaptureFixture
) -> None:
    comm = await _connected(dialer, node_key)
    await comm.send_to(text_data=JobCancel(job_uuid=uuid.uuid4()).model_dump_json())
    assert await comm.receive_json_from(timeout=2) == {"type": "error", "code": "internal", "detail": "handler failed"}
    assert any("handler failed for JobCancel" in r.getMessage() and r.exc_info for r in caplog.records)

    job_uuid = uuid.uuid4()
    await comm.send_to(text_data=_reserve(job_uuid))
    assert (await comm.receive_json_from(timeout=2))["job_uuid"] == str(job_uuid)
    await comm.disconnect()


async def test_a_second_handshake_after_authentication_is_an_unknown_type(dialer: Hotkey, node_key: Hotkey) -> None:
    comm = await _connected(dialer, node_key)
    again = handshake_build(hotkey=dialer, peer_hotkey=node_key.ss58, path=PATH)
    await comm.send_to(text_data=again.model_dump_json())
    error = await comm.receive_json_from(timeout=2)
    assert (error["type"], error["code"]) == ("error", "unknown_type")
    assert EchoConsumer.authenticated == [dialer.ss58]
    await comm.disconnect()


class LayerConsumer(EchoConsumer):
    """Waits on a channel layer of its own, on a Redis the test can kill."""

    channel_layer_alias = "crash-test"
    disconnected: ClassVar[list[int]] = []

    async def disconnect(self, code: int) -> None:
        self.disconnected.append(code)


async def test_a_crash_in_the_channel_layer_still_runs_the_disconnect_cleanup(settings: Any, tmp_path: Path) -> None:
    # channels_redis raises out of the consumer when its Redis goes away; websocket_disconnect never
    # comes, so without the cleanup a facilitator kept that validator's session open for ever.
    redis = PrivateRedis(tmp_path)
    redis.start()
    layer = {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis.url]}}
    settings.CHANNEL_LAYERS = {**settings.CHANNEL_LAYERS, LayerConsumer.channel_layer_alias: layer}
    LayerConsumer.disconnected = []
    try:
        comm = WebsocketCommunicator(URLRouter([path("v1/echo/", LayerConsumer.as_asgi())]), PATH)
        connected, _ = await comm.connect()
        assert connected
        redis.stop()
        with pytest.raises(RedisConnectionError):
            await comm.receive_output(timeout=10)
        assert LayerConsumer.disconnected == [CRASH_CLOSE_CODE]
    finally:
        redis.stop()
        channel_layers.backends.pop(LayerConsumer.channel_layer_alias, None)


async def test_lines_logged_for_a_connection_name_its_peer(dialer, node_key, json_log):
    comm = await _connected(dialer, node_key)
    await comm.send_to(text_data='{"type": "nope"}')
    assert (await comm.receive_json_from(timeout=3))["code"] == "unknown_type"
    refused = [line for line in json_log() if "refused frame" in line["event"]]
    assert [line["peer"] for line in refused] == [dialer.ss58]
    await comm.disconnect()
