"""Fuzzing the DHT's datagram handler (dht/engine/transport.py `datagram_received` → the request
server, record intake and RPC client): each datagram is dropped with a counted reason or answered
with a typed reply (an error reply included), never an exception, and the node keeps serving.

Datagrams come from a registered peer, most of them signed for real over fuzzed envelopes (so they
pass the signature check and reach the bodies, records and store), the rest mutated after signing
or not envelopes at all."""

import asyncio
import json
import secrets
import time
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dht.engine.interfaces import StakeInfo
from dht.engine.node import DhtNode
from dht.engine.records import record_sign
from dht.engine.wire import ENVELOPE, REPLY_BODIES, RPC_DOMAIN, ErrorReply
from dht.policy.stake import StaticStakeSource
from protocol.keys import Hotkey, hotkey_create
from tests.dht.swarm import config_with, node_build
from tests.fuzz.budget import FUZZ_BATCH, fuzz_settings, tally
from tests.fuzz.strategies import finite_json_values, hex_chars, mutated, raw_frames, texts

pytestmark = pytest.mark.fuzz
ANSWER_TIMEOUT_S = 10.0
MAX_DATAGRAM_BYTES = 60_000


class Catcher(asyncio.DatagramProtocol):
    """The fuzzing peer's socket: it collects the node's replies."""

    def __init__(self) -> None:
        self.replies: list[bytes] = []

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.replies.append(data)


class Target:
    """The node under test, how many datagrams it has accounted for, and the peer's socket."""

    def __init__(self, node: DhtNode, peer: Hotkey, catcher: Catcher, addr: tuple[str, int]) -> None:
        self.node, self.peer, self.catcher, self.addr = node, peer, catcher, addr
        self.errors: list[dict[str, Any]] = []
        self.tally = tally("dht datagram handler")

    def outcomes(self) -> Counter[str]:
        seen = Counter({f"dropped: {reason}": n for reason, n in self.node.drops.counts.items()})
        seen.update({f"counted: {kind}": n for kind, n in self.node.stats.items()})
        seen["answered"] = len(self.catcher.replies)
        return seen

    def accounted(self) -> int:
        return self.outcomes().total()

    async def feed(self, data: bytes) -> None:
        outcomes = self.outcomes()
        before = outcomes.total()
        self.node._endpoint.datagram_received(data, self.addr)  # what the event loop calls
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while self.accounted() == before:
            assert time.monotonic() < deadline, f"datagram neither dropped nor answered: {data[:300]!r}"
            await asyncio.sleep(0.0005)
        assert not self.errors, f"the node raised on {data[:300]!r}: {self.errors}"
        self.tally["datagrams"] += 1
        self.tally.update(self.outcomes() - outcomes)


def seal(peer: Hotkey, fields: Any) -> bytes:
    """Sign exactly these bytes, canonical or not: the node verifies what it received."""
    payload = json.dumps(fields).encode()
    return peer.sign(RPC_DOMAIN + payload).encode() + b"\n" + payload


def datagrams(target: Target) -> st.SearchStrategy[bytes]:
    peer, node = target.peer, target.node
    records = st.builds(
        lambda key, value, ttl: record_sign(hotkey=peer, key=key, value=value, expires=time.time() + ttl).wire(),
        st.sampled_from(["kv:fuzz", "heartbeat:" + peer.ss58, "catalogue", "x"]),
        finite_json_values,
        st.floats(min_value=-100, max_value=200_000),
    )
    bodies = {
        "ping": st.builds(dict),
        "find_node": st.fixed_dictionaries({"target": hex_chars}),
        "find_value": st.fixed_dictionaries({"key": texts}, optional={"after": texts}),
        "store": st.fixed_dictionaries({"records": st.lists(records, min_size=1, max_size=3)}),
    }

    @st.composite
    def envelope(draw: st.DrawFn) -> dict[str, Any]:
        op = draw(st.sampled_from(sorted(bodies)))
        return {
            "v": 1,
            "kind": draw(st.sampled_from(["req", "req", "req", "res"])),
            "op": op,
            # Fresh, not drawn: a drawn id repeats (hypothesis favours zeros) and is dropped as a replay.
            "id": draw(st.sampled_from([secrets.token_hex(16), secrets.token_hex(16), "0" * 32])),
            "ts": time.time() + draw(st.sampled_from([0.0, 0.0, 0.0, -120.0])),
            "sender": peer.ss58,
            "crypto": peer.crypto,
            "to": draw(st.sampled_from([node.hotkey.ss58, node.hotkey.ss58, node.hotkey.ss58, None, peer.ss58])),
            "body": draw(bodies[op]),
        }

    signed = st.one_of(envelope(), mutated(envelope())).map(lambda fields: seal(peer, fields))
    resigned = st.tuples(signed, st.binary(min_size=1, max_size=8)).map(lambda t: t[1] + t[0])
    raw = raw_frames(MAX_DATAGRAM_BYTES).map(lambda f: f if isinstance(f, bytes) else f.encode())
    return st.one_of(signed, signed, signed, signed, resigned, raw, raw.map(lambda r: b"0x00\n" + r))


@pytest.fixture
async def target() -> Any:
    stake = StaticStakeSource()
    own, peer = hotkey_create("ed25519")[0], hotkey_create("ed25519")[0]
    for hotkey in (own, peer):
        stake.table[hotkey.ss58] = StakeInfo(stake=100, role="miner")
    # The peer-rate limit would drop the fuzzer's datagrams before they are parsed: raised.
    config = config_with(peer_requests_per_s=1e9, peer_request_burst=10**9, max_datagram_bytes=MAX_DATAGRAM_BYTES)
    node = node_build(hotkey=own, stake=stake, config=config)
    await node.start("127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    transport, catcher = await loop.create_datagram_endpoint(Catcher, local_addr=("127.0.0.1", 0))
    fuzzed = Target(node, peer, catcher, transport.get_extra_info("sockname")[:2])
    loop.set_exception_handler(lambda _, context: fuzzed.errors.append(context))
    yield fuzzed
    transport.close()
    await node.stop()


@pytest.fixture
def strategy(target: Target) -> st.SearchStrategy[bytes]:
    return datagrams(target)


@given(data=st.data())
@fuzz_settings
async def test_every_datagram_is_dropped_with_a_reason_or_answered_and_the_node_keeps_serving(
    data: st.DataObject, target: Target, strategy: st.SearchStrategy[bytes]
) -> None:
    replies = len(target.catcher.replies)
    for datagram in data.draw(st.lists(strategy, min_size=FUZZ_BATCH, max_size=FUZZ_BATCH)):
        await target.feed(datagram)
    for reply in target.catcher.replies[replies:]:
        envelope = ENVELOPE.validate_python(json.loads(reply.partition(b"\n")[2]) | {"sig": "0x00"})
        assert envelope.to == target.peer.ss58
        body = envelope.body
        (ErrorReply if "error" in body else REPLY_BODIES[envelope.op]).model_validate(body)  # a typed reply
