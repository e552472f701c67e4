"""Hostile peers: garbage, huge datagrams, floods, replays, unregistered senders and poisoned
lookup replies are dropped with a logged reason; the node keeps serving and its records stay intact."""

import asyncio
import json
import logging
import time

import pytest

from dht.engine.records import record_sign
from dht.engine.wire import envelope_fields, envelope_seal
from protocol.keys import hotkey_create


class Raw(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.received: list[bytes] = []

    def datagram_received(self, data, addr) -> None:
        self.received.append(data)


@pytest.fixture
async def raw():
    transport, protocol = await asyncio.get_running_loop().create_datagram_endpoint(Raw, local_addr=("127.0.0.1", 0))
    yield transport, protocol
    transport.close()


async def settle() -> None:
    await asyncio.sleep(0.2)


async def test_garbage_is_dropped_with_a_reason_and_the_node_keeps_working(make_swarm, raw, caplog):
    caplog.set_level(logging.WARNING, logger="dht.engine.droplog")
    swarm = await make_swarm(3, peer_request_burst=10_000, peer_requests_per_s=10_000)
    target, friend = swarm.nodes[1], swarm.nodes[2]
    record, _ = await friend.put("kv:keep", {"safe": True}, ttl_s=60)
    transport, _ = raw
    payloads = [
        b"\x00\xff garbage",
        b"0x00\n" + b"[" * 50_000,  # nesting bomb within the size limit
        b'0x00\n{"v": 1, "ts": NaN}',
        b"0x00\n" + json.dumps({"v": 2, "kind": "req"}).encode(),
        b"0x00\n" + json.dumps({"v": 1, "kind": "req", "op": "store", "body": {"records": "x" * 100}}).encode(),
        b"x" * 65_000,  # over DHT_MAX_DATAGRAM_BYTES
    ]
    for payload in payloads:
        transport.sendto(payload, target.addr)
    await settle()
    assert target.drops.counts["malformed datagram"] == 5
    assert target.drops.counts["oversized datagram"] == 1
    assert "dropped malformed datagram" in caplog.text
    assert await friend.ping(target.addr, hotkey=target.hotkey.ss58) == target.hotkey.ss58
    assert (await swarm.nodes[0].get("kv:keep"))[friend.hotkey.ss58] == record


async def test_a_flood_costs_bounded_work(make_swarm, raw):
    swarm = await make_swarm(2, peer_request_burst=50, peer_requests_per_s=1)
    target = swarm.nodes[1]
    transport, _ = raw
    for _ in range(20):
        for _ in range(100):
            transport.sendto(b"{}", target.addr)
        await asyncio.sleep(0.01)  # let the node drain its socket: we test its work, not the kernel's
    await settle()
    counts = target.drops.counts
    # Past the burst, each datagram costs one token-bucket check; only ~burst ever get parsed.
    assert counts["peer over request rate"] >= 1_500
    assert counts["malformed datagram"] <= 60
    assert await swarm.nodes[0].ping(target.addr, hotkey=target.hotkey.ss58) == target.hotkey.ss58


async def test_replayed_and_unregistered_requests_are_refused(make_swarm, raw):
    swarm = await make_swarm(2)
    target, peer = swarm.nodes[1], swarm.nodes[0]
    transport, protocol = raw

    def sealed(hotkey, **changes) -> bytes:
        fields = envelope_fields(hotkey=hotkey, kind="req", op="ping", to=target.hotkey.ss58, body={})
        return envelope_seal(hotkey=hotkey, fields={**fields, **changes}, max_bytes=60_000)

    data = sealed(peer.hotkey)
    transport.sendto(data, target.addr)
    transport.sendto(data, target.addr)
    transport.sendto(sealed(peer.hotkey, ts=time.time() - 3_600), target.addr)
    stranger, _ = hotkey_create("ed25519")
    transport.sendto(sealed(stranger), target.addr)
    # A genuine signature over a ping, with the payload swapped for a find_node.
    signature, _, payload = sealed(peer.hotkey).partition(b"\n")
    tampered = payload.replace(b'"op":"ping"', b'"op":"find_node"').replace(
        b'"body":{}', b'"body":{"target":"' + b"0" * 64 + b'"}'
    )
    transport.sendto(signature + b"\n" + tampered, target.addr)
    await settle()
    assert len(protocol.received) == 1  # only the first, genuine ping was answered
    counts = target.drops.counts
    assert counts["replayed request"] == 1
    assert counts["request timestamp out of window"] == 1
    assert counts["request from an unregistered hotkey"] == 1
    assert counts["request with a bad signature"] == 1
    assert target.routing.get(stranger.ss58) is None


async def test_poisoned_lookup_replies_never_reach_the_caller(make_swarm, monkeypatch):
    swarm = await make_swarm(4)
    liar, victim = swarm.nodes[1], swarm.nodes[2]
    genuine, _ = await victim.put("kv:v", "genuine", ttl_s=60)
    forged = genuine.model_copy(update={"value": "forged", "expires": genuine.expires + 10})
    other_key = record_sign(hotkey=liar.hotkey, key="kv:other", value=1, expires=time.time() + 60)
    # The liar serves a forged copy (later expiry, so it would win if it were believed).
    original = liar.store.page

    def poisoned(key, *, after, budget_bytes):
        page, more = original(key, after=after, budget_bytes=budget_bytes)
        return [(forged, forged.wire()), (other_key, other_key.wire()), *page], more

    monkeypatch.setattr(liar.store, "page", poisoned)
    for node in swarm.nodes:
        got = await node.get("kv:v", quorum=4)
        assert got[victim.hotkey.ss58] == genuine
    drops = sum((n.drops.counts for n in swarm.nodes if n is not liar), start=type(liar.drops.counts)())
    assert drops["lookup reply record rejected: bad signature"] >= 1
    assert drops["lookup reply with a record for another key"] >= 1
    assert all(n.store.current("kv:v", victim.hotkey.ss58) in (None, genuine) for n in swarm.nodes if n is not liar)
