"""Limits of the consumer base (protocol/consumer.py) on real Redis: a burst passes, a sustained
flood gets typed RATE_LIMITED replies and is not processed, repeated bad frames ban the peer (close
4029), a banned peer is refused at the next handshake until the ban expires, limits hold per peer
across its connections and per address before the handshake, and honest traffic passes untouched."""

import asyncio
import uuid
from typing import Any

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.urls import path
from pydantic import TypeAdapter

from protocol.consumer import CloseCode, SignedConsumer
from protocol.handshake import handshake_build
from protocol.keys import Hotkey
from protocol.limits import PeerLimits, peer_key_for_address, peer_key_for_hotkey
from protocol.messages.jobs import JobCancelled
from protocol.messages.miner import JobCancel

PATH = "/v1/limits/"
pytestmark = pytest.mark.usefixtures("server_nonces")


class CancelEcho(SignedConsumer[JobCancel]):
    """Answers every cancel with a cancelled: a cheap handler, so only the limits cost anything."""

    incoming = TypeAdapter(JobCancel)
    path = PATH
    handled: int = 0

    async def authorize(self, peer_hotkey: str) -> str | None:
        return None

    async def handle(self, message: JobCancel) -> None:
        CancelEcho.handled += 1
        await self.send_message(JobCancelled(job_uuid=message.job_uuid))


application = URLRouter([path("v1/limits/", CancelEcho.as_asgi())])


@pytest.fixture(autouse=True)
def limits(settings: Any) -> Any:
    """Small limits a test reaches in a few frames; each test lowers what it exercises."""
    CancelEcho.handled = 0
    settings.PROTOCOL_BAN_STRIKES = 3
    settings.PROTOCOL_BAN_WINDOW_S = 60.0
    settings.PROTOCOL_BAN_S = 60.0
    return settings


async def _open(address: str | None = None) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(application, PATH)
    if address is not None:
        comm.scope["client"] = (address, 50000)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def _hello(comm: WebsocketCommunicator, dialer: Hotkey, node_key: Hotkey) -> dict[str, Any]:
    await comm.send_to(text_data=handshake_build(hotkey=dialer, peer_hotkey=node_key.ss58, path=PATH).model_dump_json())
    reply: dict[str, Any] = await comm.receive_json_from(timeout=3)
    return reply


async def _connected(dialer: Hotkey, node_key: Hotkey, address: str | None = None) -> WebsocketCommunicator:
    comm = await _open(address)
    assert (await _hello(comm, dialer, node_key))["type"] == "handshake"
    return comm


async def _cancel(comm: WebsocketCommunicator) -> dict[str, Any]:
    await comm.send_to(text_data=JobCancel(job_uuid=uuid.uuid4()).model_dump_json())
    reply: dict[str, Any] = await comm.receive_json_from(timeout=3)
    return reply


async def _closed_with(comm: WebsocketCommunicator) -> int:
    event = await comm.receive_output(timeout=3)
    assert event["type"] == "websocket.close"
    code: int = event["code"]
    return code


def _retry_after(detail: str) -> float:
    return float(detail.rsplit("retry_after_s=", 1)[1])


async def test_a_burst_passes_then_frames_over_the_rate_get_a_typed_reply_and_are_not_processed(
    dialer: Hotkey, node_key: Hotkey, limits: Any
) -> None:
    limits.PROTOCOL_RATE_PER_S, limits.PROTOCOL_RATE_BURST = 0.5, 4
    comm = await _connected(dialer, node_key)
    assert [(await _cancel(comm))["type"] for _ in range(4)] == ["job.cancelled"] * 4

    throttled = await _cancel(comm)
    assert (throttled["type"], throttled["code"]) == ("error", "rate_limited")
    assert 0 < _retry_after(throttled["detail"]) <= 2.0
    assert CancelEcho.handled == 4
    assert await comm.receive_nothing(timeout=0.1)  # still connected: one over-rate frame is no ban
    await comm.disconnect()


async def test_a_sustained_flood_is_throttled_then_banned_and_closed(
    dialer: Hotkey, node_key: Hotkey, limits: Any, server_limits: PeerLimits
) -> None:
    limits.PROTOCOL_RATE_PER_S, limits.PROTOCOL_RATE_BURST = 0.5, 2
    comm = await _connected(dialer, node_key)
    replies = [await _cancel(comm) for _ in range(2 + limits.PROTOCOL_BAN_STRIKES)]
    assert [r.get("code", r["type"]) for r in replies] == ["job.cancelled"] * 2 + ["rate_limited"] * 3
    banned = await comm.receive_json_from(timeout=3)
    assert (banned["code"], _retry_after(banned["detail"])) == ("banned", 60.0)
    assert "over the frame rate" in banned["detail"]
    assert await _closed_with(comm) == CloseCode.BANNED
    assert CancelEcho.handled == 2
    ban = await server_limits.ban_get(peer_key_for_hotkey(dialer.ss58))
    assert ban is not None
    assert ban.reason == "over the frame rate"


async def test_repeated_malformed_frames_ban_the_peer_and_its_next_handshake_is_refused(
    dialer: Hotkey, node_key: Hotkey, limits: Any, caplog: pytest.LogCaptureFixture
) -> None:
    comm = await _connected(dialer, node_key)
    for _ in range(limits.PROTOCOL_BAN_STRIKES):  # the reply to a malformed frame is unchanged
        await comm.send_to(text_data="{nope")
        assert (await comm.receive_json_from(timeout=3))["code"] == "malformed"
    banned = await comm.receive_json_from(timeout=3)
    assert banned["code"] == "banned"
    assert "malformed" in banned["detail"]
    assert await _closed_with(comm) == CloseCode.BANNED
    assert any("banned hk:" + dialer.ss58 in r.getMessage() for r in caplog.records)

    again = await _open()
    refused = await _hello(again, dialer, node_key)
    assert (refused["type"], refused["code"]) == ("error", "banned")
    assert 0 < _retry_after(refused["detail"]) <= 60.0
    assert await _closed_with(again) == CloseCode.BANNED


async def test_a_ban_expires_and_the_peer_is_admitted_again(dialer: Hotkey, node_key: Hotkey, limits: Any) -> None:
    limits.PROTOCOL_BAN_S = 0.5
    comm = await _connected(dialer, node_key)
    for _ in range(limits.PROTOCOL_BAN_STRIKES):
        await comm.send_to(text_data="[]")
        await comm.receive_json_from(timeout=3)
    assert (await comm.receive_json_from(timeout=3))["code"] == "banned"
    assert await _closed_with(comm) == CloseCode.BANNED

    await asyncio.sleep(0.7)
    later = await _connected(dialer, node_key)
    assert (await _cancel(later))["type"] == "job.cancelled"
    await later.disconnect()


async def test_one_peers_ban_leaves_other_peers_alone(
    dialer: Hotkey, node_key: Hotkey, make_hotkey: Any, server_limits: PeerLimits, limits: Any
) -> None:
    for _ in range(limits.PROTOCOL_BAN_STRIKES):
        await server_limits.strike(peer_key_for_hotkey(dialer.ss58), reason="test")
    assert await server_limits.ban_get(peer_key_for_hotkey(dialer.ss58)) is not None

    other = await _connected(make_hotkey(), node_key)
    assert (await _cancel(other))["type"] == "job.cancelled"
    await other.disconnect()
    refused = await _open()
    assert (await _hello(refused, dialer, node_key))["code"] == "banned"


async def test_the_peer_rate_holds_across_its_connections_and_a_ban_closes_all_of_them(
    dialer: Hotkey, node_key: Hotkey, limits: Any
) -> None:
    limits.PROTOCOL_PEER_RATE_PER_S, limits.PROTOCOL_PEER_RATE_BURST = 0.5, 4
    first, second = await _connected(dialer, node_key), await _connected(dialer, node_key)
    assert [(await _cancel(c))["type"] for c in (first, second, first, second)] == ["job.cancelled"] * 4
    assert (await _cancel(second))["code"] == "rate_limited"  # each connection alone is under its rate

    for _ in range(limits.PROTOCOL_BAN_STRIKES - 1):  # the ban comes from the first connection...
        assert (await _cancel(first))["code"] == "rate_limited"
    assert (await first.receive_json_from(timeout=3))["code"] == "banned"
    assert await _closed_with(first) == CloseCode.BANNED
    second_reply = await _cancel(second)  # ...and closes the second at its next frame
    assert second_reply["code"] == "banned"
    assert await _closed_with(second) == CloseCode.BANNED


async def test_too_many_connections_from_one_address_are_refused_others_are_not(
    dialer: Hotkey, node_key: Hotkey, limits: Any
) -> None:
    limits.PROTOCOL_HANDSHAKE_RATE_PER_S, limits.PROTOCOL_HANDSHAKE_BURST = 0.5, 2
    kept = [await _open("203.0.113.7") for _ in range(2)]
    flood = await _open("203.0.113.7")
    refused = await flood.receive_json_from(timeout=3)
    assert (refused["code"], 0 < _retry_after(refused["detail"]) <= 2.0) == ("rate_limited", True)
    assert await _closed_with(flood) == CloseCode.RATE_LIMITED

    elsewhere = await _connected(dialer, node_key, address="198.51.100.9")
    assert (await _cancel(elsewhere))["type"] == "job.cancelled"
    for comm in [*kept, elsewhere]:
        await comm.disconnect()


async def test_failed_handshakes_ban_the_address_and_its_next_connection_is_refused_at_once(
    node_key: Hotkey, make_hotkey: Any, limits: Any, server_limits: PeerLimits
) -> None:
    codes = []
    for _ in range(limits.PROTOCOL_BAN_STRIKES):
        comm = await _open("203.0.113.8")
        wrong = handshake_build(hotkey=make_hotkey(), peer_hotkey=make_hotkey().ss58, path=PATH)  # not for us
        await comm.send_to(text_data=wrong.model_dump_json())
        assert (await comm.receive_json_from(timeout=3))["code"] == "unauthenticated"
        codes.append(await _closed_with_after_errors(comm))
    assert codes == [CloseCode.UNAUTHENTICATED] * (limits.PROTOCOL_BAN_STRIKES - 1) + [CloseCode.BANNED]
    assert await server_limits.ban_get(peer_key_for_address("203.0.113.8")) is not None

    refused = await _open("203.0.113.8")
    assert (await refused.receive_json_from(timeout=3))["code"] == "banned"
    assert await _closed_with(refused) == CloseCode.BANNED


async def _closed_with_after_errors(comm: WebsocketCommunicator) -> int:
    """The close code, skipping the BANNED error the last strike sends before it."""
    while (event := await comm.receive_output(timeout=3))["type"] != "websocket.close":
        assert '"banned"' in event["text"]
    code: int = event["code"]
    return code


async def test_loopback_addresses_are_not_limited_by_address(dialer: Hotkey, node_key: Hotkey, limits: Any) -> None:
    limits.PROTOCOL_HANDSHAKE_RATE_PER_S, limits.PROTOCOL_HANDSHAKE_BURST = 0.5, 1
    comms = [await _connected(dialer, node_key, address="127.0.0.1") for _ in range(3)]
    for comm in comms:
        await comm.disconnect()


async def test_honest_bursts_pass_with_the_default_limits(dialer: Hotkey, node_key: Hotkey, settings: Any) -> None:
    """Defaults (config/settings/components/limits.py): a validator's outbox flush (three batches
    of 100 status updates back to back) on each of two links of one peer is never throttled."""
    settings.PROTOCOL_BAN_STRIKES = 50
    first, second = await _connected(dialer, node_key), await _connected(dialer, node_key)
    frames = JobCancel(job_uuid=uuid.uuid4()).model_dump_json()
    for comm in (first, second):
        for _ in range(300):
            await comm.send_to(text_data=frames)
    replies = [await c.receive_json_from(timeout=10) for c in (first, second) for _ in range(300)]
    assert {r["type"] for r in replies} == {"job.cancelled"}
    for comm in (first, second):
        await comm.disconnect()
