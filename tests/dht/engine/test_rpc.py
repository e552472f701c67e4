"""The RPC client on its own (no socket): a signed reply resolves the request it answers, and every
reply it must not believe — unsolicited, late, from the wrong address, hotkey or op, addressed to
someone else, out of the clock window, badly signed — is refused with its reason while the call
keeps waiting for the real one."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from dht.engine.rpc import LATE, RpcClient, RpcError, RpcTimeout
from dht.engine.transport import Addr
from dht.engine.wire import Envelope, Op, envelope_fields, envelope_parse, envelope_seal
from protocol.keys import Hotkey

MAX_BYTES = 60_000
PEER_ADDR: Addr = ("127.0.0.1", 7001)


class Wire:
    """Stands in for the socket: keeps what the client sends, parsed, with the address."""

    def __init__(self) -> None:
        self.sent: list[tuple[Envelope, Addr]] = []

    def send(self, data: bytes, addr: Addr) -> None:
        self.sent.append((envelope_parse(data, max_bytes=MAX_BYTES), addr))


@pytest.fixture
def me(make_hotkey: Callable[..., Hotkey]) -> Hotkey:
    return make_hotkey("ed25519")


@pytest.fixture
def peer(make_hotkey: Callable[..., Hotkey]) -> Hotkey:
    return make_hotkey("ed25519")


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def client(me: Hotkey, wire: Wire) -> RpcClient:
    return RpcClient(hotkey=me, send=wire.send, max_bytes=MAX_BYTES, max_skew_s=30.0)


def reply(
    request: Envelope,
    *,
    sender: Hotkey,
    signer: Hotkey | None = None,
    body: dict[str, Any] | None = None,
    **changes: Any,
) -> Envelope:
    """A response to `request` from `sender` as it arrives off the wire; `changes` override fields
    before signing, `signer` signs with another key than the sender's."""
    fields = envelope_fields(
        hotkey=sender, kind="res", op=request.op, to=request.sender, body=body or {}, rid=request.id
    )
    fields.update(changes)
    return envelope_parse(
        envelope_seal(hotkey=signer or sender, fields=fields, max_bytes=MAX_BYTES), max_bytes=MAX_BYTES
    )


async def sent_request(wire: Wire) -> Envelope:
    """The request a call just put on the wire (the call task has run up to its wait)."""
    for _ in range(100):
        if wire.sent:
            return wire.sent[-1][0]
        await asyncio.sleep(0)
    raise AssertionError("nothing was sent")


async def abandon(task: "asyncio.Task[Envelope]") -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def calling(client: RpcClient, op: Op = "ping", *, to: str | None, timeout_s: float = 5.0) -> "asyncio.Task[Envelope]":
    return asyncio.create_task(client.call(PEER_ADDR, op, {}, to=to, timeout_s=timeout_s))


async def test_a_signed_reply_resolves_the_call_it_answers(
    client: RpcClient, wire: Wire, me: Hotkey, peer: Hotkey
) -> None:
    task = calling(client, "find_node", to=peer.ss58)
    request = await sent_request(wire)
    assert wire.sent[0][1] == PEER_ADDR
    assert (request.kind, request.op, request.to, request.sender) == ("req", "find_node", peer.ss58, me.ss58)
    assert request.signature_ok()
    assert len(client) == 1
    answer = reply(request, sender=peer, body={"peers": []})
    assert client.on_response(answer, PEER_ADDR) is None
    assert await task == answer
    assert len(client) == 0


async def test_a_duplicated_reply_is_late_once_the_first_resolved(client: RpcClient, wire: Wire, peer: Hotkey) -> None:
    task = calling(client, to=peer.ss58)
    answer = reply(await sent_request(wire), sender=peer)
    assert client.on_response(answer, PEER_ADDR) is None
    assert client.on_response(answer, PEER_ADDR) == LATE  # before the caller even resumed
    assert await task == answer
    assert client.on_response(answer, PEER_ADDR) == LATE  # and after


async def test_a_reply_nobody_asked_for_is_unsolicited(client: RpcClient, wire: Wire, me: Hotkey, peer: Hotkey) -> None:
    # A request the client never sent, answered "for" it.
    stranger = envelope_parse(
        envelope_seal(
            hotkey=me,
            fields=envelope_fields(hotkey=me, kind="req", op="ping", to=peer.ss58, body={}),
            max_bytes=MAX_BYTES,
        ),
        max_bytes=MAX_BYTES,
    )
    assert client.on_response(reply(stranger, sender=peer), PEER_ADDR) == "unsolicited response"


async def test_a_call_nobody_answers_times_out_and_its_reply_is_late(
    client: RpcClient, wire: Wire, peer: Hotkey
) -> None:
    with pytest.raises(RpcTimeout, match=r"^ping to 127\.0\.0\.1:7001 timed out$"):
        await client.call(PEER_ADDR, "ping", {}, to=peer.ss58, timeout_s=0.05)
    assert len(client) == 0
    request = wire.sent[0][0]
    assert client.on_response(reply(request, sender=peer), PEER_ADDR) == LATE


async def test_a_reply_to_a_cancelled_call_is_late(client: RpcClient, wire: Wire, peer: Hotkey) -> None:
    task = calling(client, to=peer.ss58)
    request = await sent_request(wire)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(client) == 0
    assert client.on_response(reply(request, sender=peer), PEER_ADDR) == LATE


@pytest.mark.parametrize(
    ("addr", "changes", "reason"),
    [
        (("127.0.0.1", 7002), {}, "response from the wrong address"),
        (("127.0.0.2", 7001), {}, "response from the wrong address"),
        (PEER_ADDR, {"op": "find_node"}, "response not addressed to this request"),
        (PEER_ADDR, {"ts": -31.0}, "response timestamp out of window"),
        (PEER_ADDR, {"ts": 31.0}, "response timestamp out of window"),
    ],
)
async def test_an_unacceptable_reply_is_refused_and_the_call_keeps_waiting(
    client: RpcClient, wire: Wire, peer: Hotkey, addr: Addr, changes: dict[str, Any], reason: str
) -> None:
    task = calling(client, to=peer.ss58)
    request = await sent_request(wire)
    if "ts" in changes:  # an offset from now, taken when the reply is made
        changes = {"ts": time.time() + changes["ts"]}
    assert client.on_response(reply(request, sender=peer, **changes), addr) == reason
    assert not task.done()
    good = reply(request, sender=peer)
    assert client.on_response(good, PEER_ADDR) is None
    assert await task == good


async def test_a_reply_addressed_to_another_node_is_refused(
    client: RpcClient, wire: Wire, peer: Hotkey, make_hotkey: Callable[..., Hotkey]
) -> None:
    task = calling(client, to=peer.ss58)
    request = await sent_request(wire)
    other = make_hotkey("ed25519")
    assert client.on_response(reply(request, sender=peer, to=other.ss58), PEER_ADDR) == (
        "response not addressed to this request"
    )
    assert not task.done()
    await abandon(task)


async def test_a_reply_from_another_hotkey_than_the_one_called_is_refused(
    client: RpcClient, wire: Wire, peer: Hotkey, make_hotkey: Callable[..., Hotkey]
) -> None:
    task = calling(client, to=peer.ss58)
    request = await sent_request(wire)
    impostor = make_hotkey("ed25519")  # correctly signed, by the wrong node
    assert client.on_response(reply(request, sender=impostor), PEER_ADDR) == "response from an unexpected hotkey"
    assert not task.done()
    await abandon(task)


async def test_a_call_without_a_known_hotkey_takes_whoever_answers(
    client: RpcClient, wire: Wire, make_hotkey: Callable[..., Hotkey]
) -> None:
    # The first ping to a bootnode: its hotkey is learned from the reply.
    task = calling(client, to=None)
    request = await sent_request(wire)
    assert request.to is None
    answer = reply(request, sender=make_hotkey("sr25519"))
    assert client.on_response(answer, PEER_ADDR) is None
    assert await task == answer


async def test_a_forged_signature_is_refused(
    client: RpcClient, wire: Wire, peer: Hotkey, make_hotkey: Callable[..., Hotkey]
) -> None:
    task = calling(client, to=peer.ss58)
    request = await sent_request(wire)
    forged = reply(request, sender=peer, signer=make_hotkey("ed25519"))
    assert client.on_response(forged, PEER_ADDR) == "response with a bad signature"
    tampered = reply(request, sender=peer, body={"peers": []})
    tampered._payload = tampered._payload.replace(b'"peers":[]', b'"peers":[1]')
    assert client.on_response(tampered, PEER_ADDR) == "response with a bad signature"
    assert not task.done()
    await abandon(task)


async def test_concurrent_calls_each_get_their_own_reply(client: RpcClient, wire: Wire, peer: Hotkey) -> None:
    first, second = calling(client, to=peer.ss58), calling(client, to=peer.ss58)
    await sent_request(wire)
    await asyncio.sleep(0)
    (req_a, _), (req_b, _) = wire.sent
    assert req_a.id != req_b.id
    answer_b, answer_a = reply(req_b, sender=peer, body={"n": 2}), reply(req_a, sender=peer, body={"n": 1})
    assert client.on_response(answer_b, PEER_ADDR) is None
    assert client.on_response(answer_a, PEER_ADDR) is None
    assert (await first, await second) == (answer_a, answer_b)


async def test_a_request_over_the_datagram_limit_is_not_sent(me: Hotkey, wire: Wire, peer: Hotkey) -> None:
    client = RpcClient(hotkey=me, send=wire.send, max_bytes=1_000, max_skew_s=30.0)
    with pytest.raises(RpcError, match=r"^store request not sent: \d+ bytes exceeds the 1000-byte limit$"):
        await client.call(PEER_ADDR, "store", {"records": ["x" * 1_000]}, to=peer.ss58, timeout_s=1.0)
    assert (wire.sent, len(client)) == ([], 0)


async def test_the_memory_of_finished_calls_is_bounded(client: RpcClient, wire: Wire, peer: Hotkey) -> None:
    for _ in range(4097):
        with pytest.raises(RpcTimeout):
            await client.call(PEER_ADDR, "ping", {}, to=peer.ss58, timeout_s=0)
    oldest, newest = wire.sent[0][0], wire.sent[-1][0]
    assert client.on_response(reply(oldest, sender=peer), PEER_ADDR) == "unsolicited response"
    assert client.on_response(reply(newest, sender=peer), PEER_ADDR) == LATE
