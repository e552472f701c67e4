"""Calling peers through a node's PeerClient, over real UDP, against a scripted peer (a socket with
a hotkey that answers each request with the body a test chooses, or not at all): a good reply is
parsed and its sender learned; a timeout counts against the peer's table entry until it is
evicted; a reply from an unregistered hotkey, a refusal and a malformed body are errors, the last
two counted as drops; ping reports who answered."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from dht.engine.interfaces import StakeInfo
from dht.engine.node import DhtNode
from dht.engine.rpc import RpcError, RpcTimeout
from dht.engine.transport import Addr, UdpEndpoint
from dht.engine.wire import Envelope, PeerRef, PeersReply, envelope_fields, envelope_parse, envelope_seal
from dht.policy.stake import StaticStakeSource
from protocol.keys import Hotkey
from tests.dht.swarm import config_with, node_build

MAX_BYTES = 60_000
Answer = Callable[[Envelope], dict[str, Any] | None]


class ScriptedPeer:
    """A DHT peer reduced to a socket and a hotkey: `answer` maps each request to the reply body,
    or to None for silence."""

    def __init__(self, hotkey: Hotkey) -> None:
        self.hotkey = hotkey
        self.answer: Answer = lambda request: {}
        self.requests: list[Envelope] = []
        self._endpoint = UdpEndpoint(self._on_datagram)

    async def start(self) -> Addr:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self._endpoint, local_addr=("127.0.0.1", 0))
        return self.addr

    @property
    def addr(self) -> Addr:
        return self._endpoint.sockname

    def close(self) -> None:
        self._endpoint.close()

    def _on_datagram(self, data: bytes, addr: Addr) -> None:
        request = envelope_parse(data, max_bytes=MAX_BYTES)
        self.requests.append(request)
        body = self.answer(request)
        if body is None:
            return
        fields = envelope_fields(
            hotkey=self.hotkey, kind="res", op=request.op, to=request.sender, body=body, rid=request.id
        )
        self._endpoint.send(envelope_seal(hotkey=self.hotkey, fields=fields, max_bytes=MAX_BYTES), addr)


@pytest.fixture
async def peer(make_hotkey: Callable[..., Hotkey]) -> AsyncIterator[ScriptedPeer]:
    scripted = ScriptedPeer(make_hotkey("ed25519"))
    await scripted.start()
    yield scripted
    scripted.close()


MakeNode = Callable[..., Awaitable[DhtNode]]


@pytest.fixture
async def make_node(make_hotkey: Callable[..., Hotkey]) -> AsyncIterator[MakeNode]:
    """A started node whose stake table holds the hotkeys given (the peer is unregistered unless
    listed); `config` changes go on top of a loopback config with a short RPC timeout."""
    nodes: list[DhtNode] = []

    async def _make(*registered: Hotkey, **config: Any) -> DhtNode:
        stake = StaticStakeSource({h.ss58: StakeInfo(stake=100, role="miner") for h in registered})
        node = node_build(hotkey=make_hotkey("ed25519"), stake=stake, config=config_with(rpc_timeout_s=0.2, **config))
        await node.start()
        nodes.append(node)
        return node

    yield _make
    for node in nodes:
        await node.stop()


async def test_a_good_reply_is_parsed_and_its_sender_learned(make_node: MakeNode, peer: ScriptedPeer) -> None:
    node = await make_node(peer.hotkey)
    ref = {"hotkey": peer.hotkey.ss58, "host": "127.0.0.9", "port": 7009}
    peer.answer = lambda request: {"peers": [ref]}
    reply = await node.peers.call(peer.addr, "find_node", {"target": "ab" * 32}, to=peer.hotkey.ss58)
    assert reply == PeersReply(peers=[PeerRef(hotkey=peer.hotkey.ss58, host="127.0.0.9", port=7009)])
    learned = node.routing.get(peer.hotkey.ss58)
    assert learned is not None
    assert (learned.addr, learned.failures) == (peer.addr, 0)
    [request] = peer.requests
    assert (request.op, request.to, request.body) == ("find_node", peer.hotkey.ss58, {"target": "ab" * 32})
    assert node.stats["rpc failures"] == 0


async def test_timeouts_count_against_the_peer_until_it_is_evicted(make_node: MakeNode, peer: ScriptedPeer) -> None:
    node = await make_node(peer.hotkey, failures_before_evict=2)
    node.routing.seen(peer.hotkey.ss58, *peer.addr)
    peer.answer = lambda request: None
    with pytest.raises(RpcTimeout):
        await node.peers.call(peer.addr, "ping", {}, to=peer.hotkey.ss58)
    held = node.routing.get(peer.hotkey.ss58)
    assert held is not None
    assert held.failures == 1
    with pytest.raises(RpcTimeout):
        await node.peers.call(peer.addr, "ping", {}, to=peer.hotkey.ss58)
    assert node.routing.get(peer.hotkey.ss58) is None
    assert node.stats["rpc failures"] == 2
    assert len(peer.requests) == 2


async def test_a_failed_call_to_an_unknown_hotkey_blames_no_table_entry(
    make_node: MakeNode, peer: ScriptedPeer
) -> None:
    node = await make_node(peer.hotkey)
    node.routing.seen(peer.hotkey.ss58, *peer.addr)
    peer.answer = lambda request: None
    with pytest.raises(RpcTimeout):
        await node.peers.call(peer.addr, "ping", {}, to=None)
    held = node.routing.get(peer.hotkey.ss58)
    assert held is not None
    assert held.failures == 0
    assert node.stats["rpc failures"] == 1


async def test_a_reply_from_an_unregistered_hotkey_is_refused_and_not_learned(
    make_node: MakeNode, peer: ScriptedPeer
) -> None:
    node = await make_node()  # knows no one
    with pytest.raises(RpcError, match=r"^unregistered peer$"):
        await node.peers.call(peer.addr, "ping", {}, to=peer.hotkey.ss58)
    assert node.drops.counts["reply from an unregistered hotkey"] == 1
    assert node.routing.get(peer.hotkey.ss58) is None
    assert node.stats["rpc failures"] == 0  # the peer answered: not an RPC failure


async def test_an_unregistered_bootnode_or_an_open_network_is_admitted(make_node: MakeNode, peer: ScriptedPeer) -> None:
    bootstrapping = await make_node()
    bootstrapping.contacts.bootnodes.add(peer.addr)
    assert await bootstrapping.peers.call(peer.addr, "ping", {}, to=None) is not None
    open_network = await make_node(require_registered_peers=False)
    assert await open_network.peers.call(peer.addr, "ping", {}, to=None) is not None
    for node in (bootstrapping, open_network):
        assert node.routing.get(peer.hotkey.ss58) is not None
        assert node.drops.counts == {}


async def test_a_refusal_is_an_error_with_the_peers_reason_cut_short(make_node: MakeNode, peer: ScriptedPeer) -> None:
    node = await make_node(peer.hotkey)
    peer.answer = lambda request: {"error": "no " * 100}
    with pytest.raises(RpcError) as refused:
        await node.peers.call(peer.addr, "store", {"records": []}, to=peer.hotkey.ss58)
    assert str(refused.value) == f"peer refused: {('no ' * 100)[:200]}"
    # It did answer, signed: a refusal is still a live contact.
    assert node.routing.get(peer.hotkey.ss58) is not None
    assert (node.stats["rpc failures"], node.drops.counts) == (0, {})


@pytest.mark.parametrize(
    ("op", "body"),
    [
        ("find_node", {"peers": "nope"}),
        ("find_node", {"peers": [{"hotkey": "5x", "host": "h", "port": 0}]}),
        ("find_value", {"peers": [], "records": [{"key": "kv:a"}]}),
        ("store", {"results": ["stored"], "extra": 1}),
        ("ping", {"unexpected": True}),
    ],
)
async def test_a_malformed_reply_is_dropped_and_an_error(
    make_node: MakeNode, peer: ScriptedPeer, op: Any, body: dict[str, Any]
) -> None:
    node = await make_node(peer.hotkey)
    peer.answer = lambda request: body
    with pytest.raises(RpcError, match=r"^malformed reply$"):
        await node.peers.call(peer.addr, op, {}, to=peer.hotkey.ss58)
    assert node.drops.counts == {f"malformed {op} reply": 1}


async def test_ping_reports_the_hotkey_that_answered(make_node: MakeNode, peer: ScriptedPeer) -> None:
    node = await make_node(peer.hotkey)
    assert await node.peers.ping(peer.addr) == peer.hotkey.ss58  # learned from the reply
    assert await node.peers.ping(peer.addr, hotkey=peer.hotkey.ss58) == peer.hotkey.ss58
    assert [r.to for r in peer.requests] == [None, peer.hotkey.ss58]


async def test_ping_is_none_when_nobody_answers_or_the_answer_is_refused(
    make_node: MakeNode, peer: ScriptedPeer
) -> None:
    registered, stranger = await make_node(peer.hotkey), await make_node()
    assert await stranger.peers.ping(peer.addr) is None  # answered, but unregistered
    peer.answer = lambda request: None
    assert await registered.peers.ping(peer.addr, hotkey=peer.hotkey.ss58) is None
    assert registered.routing.get(peer.hotkey.ss58) is None
