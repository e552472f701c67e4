"""The UDP transport: the endpoint over a real loopback socket (delivery with the sender's address,
a datagram too large for UDP costs a logged socket error rather than an exception, nothing is sent
after close), the address policy (IP literals only, no unspecified, multicast or broadcast
addresses, inside the allowed networks) and the link filter, both applied by a node to every
datagram it sends."""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from dht.engine.node import DhtNode
from dht.engine.transport import Addr, AddressPolicy, UdpEndpoint
from dht.policy.stake import StaticStakeSource
from protocol.keys import Hotkey
from tests.dht.swarm import config_with, node_build

UDP_MAX_PAYLOAD = 65_507  # IPv4: 65535 minus the IP and UDP headers


OpenInbox = Callable[[str], Awaitable[tuple["Inbox", Addr]]]


class Inbox:
    """A raw socket on loopback that keeps every datagram it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, Addr]] = []
        self.arrived = asyncio.Event()

    def on_datagram(self, data: bytes, addr: Addr) -> None:
        self.received.append((data, addr))
        self.arrived.set()

    async def next(self, timeout_s: float = 2.0) -> tuple[bytes, Addr]:
        await asyncio.wait_for(self.arrived.wait(), timeout_s)
        self.arrived.clear()
        return self.received[-1]


async def endpoint_open(inbox: Inbox, host: str = "127.0.0.1") -> UdpEndpoint:
    endpoint = UdpEndpoint(inbox.on_datagram)
    await asyncio.get_running_loop().create_datagram_endpoint(lambda: endpoint, local_addr=(host, 0))
    return endpoint


@pytest.fixture
async def pair() -> AsyncIterator[tuple[UdpEndpoint, UdpEndpoint, Inbox]]:
    """A sending endpoint and a receiving one, with the receiver's inbox."""
    inbox = Inbox()
    sender, receiver = await endpoint_open(Inbox()), await endpoint_open(inbox)
    yield sender, receiver, inbox
    sender.close()
    receiver.close()


async def test_a_datagram_arrives_whole_with_the_senders_address(
    pair: tuple[UdpEndpoint, UdpEndpoint, Inbox],
) -> None:
    sender, receiver, inbox = pair
    host, port = sender.sockname
    assert (host, receiver.sockname[0]) == ("127.0.0.1", "127.0.0.1")
    assert 0 < port <= 65535
    sender.send(b"hello", receiver.sockname)
    assert await inbox.next() == (b"hello", sender.sockname)
    big = bytes(range(256)) * 234  # 59 904 bytes: under the datagram limit, one datagram
    sender.send(big, receiver.sockname)
    assert await inbox.next() == (big, sender.sockname)


async def test_a_datagram_too_large_for_udp_is_a_logged_socket_error(
    pair: tuple[UdpEndpoint, UdpEndpoint, Inbox], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dht.engine.transport")
    sender, receiver, inbox = pair
    sender.send(b"x" * (UDP_MAX_PAYLOAD + 1), receiver.sockname)  # does not raise
    sender.send(b"after", receiver.sockname)
    assert await inbox.next() == (b"after", sender.sockname)
    assert inbox.received == [(b"after", sender.sockname)]
    assert [r.getMessage() for r in caplog.records if r.name == "dht.engine.transport"] == [
        "dht: socket error [Errno 90] Message too long"
    ]


async def test_a_closed_endpoint_sends_nothing(pair: tuple[UdpEndpoint, UdpEndpoint, Inbox]) -> None:
    sender, receiver, inbox = pair
    sender.close()
    sender.send(b"gone", receiver.sockname)  # no error either
    await asyncio.sleep(0.1)
    assert inbox.received == []


def test_an_endpoint_never_connected_has_no_address_and_sends_nothing() -> None:
    endpoint = UdpEndpoint(Inbox().on_datagram)
    endpoint.send(b"x", ("127.0.0.1", 9))  # nothing to send with: a no-op
    endpoint.close()
    with pytest.raises(AssertionError):
        _ = endpoint.sockname


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.255",  # a subnet's broadcast address is not knowable here: allowed
        "::1",
        "2001:db8::1",
        "8.8.8.8",
    ],
)
def test_ip_literals_are_allowed_without_networks(host: str) -> None:
    assert AddressPolicy().allowed(host, 7000)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",  # names are never resolved: a record could point us anywhere
        "example.com",
        "",
        "127.0.0.1 ",
        "127.1",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "239.255.255.250",
        "ff02::1",
        "255.255.255.255",
        "10.0.0.1/8",
    ],
)
def test_names_unspecified_multicast_and_broadcast_addresses_are_refused(host: str) -> None:
    assert not AddressPolicy().allowed(host, 7000)


@pytest.mark.parametrize("host", ["::ffff:0.0.0.0", "::ffff:224.0.0.1", "::ffff:255.255.255.255"])
def test_ipv4_mapped_forms_of_refused_addresses_are_refused_too(host: str) -> None:
    assert not AddressPolicy().allowed(host, 7000)


@pytest.mark.parametrize("port", [0, -1, 65536, 100_000])
def test_ports_outside_1_to_65535_are_refused(port: int) -> None:
    assert not AddressPolicy().allowed("127.0.0.1", port)


def test_the_port_range_ends_are_allowed() -> None:
    policy = AddressPolicy()
    assert (policy.allowed("127.0.0.1", 1), policy.allowed("127.0.0.1", 65535)) == (True, True)


def test_allowed_networks_confine_peers_to_them() -> None:
    # Host bits in a network are tolerated (strict=False): "10.1.2.3/8" means 10.0.0.0/8.
    policy = AddressPolicy(("10.1.2.3/8", "fd00::/8"))
    allowed = {h: policy.allowed(h, 7000) for h in ("10.255.0.1", "fd12::1", "11.0.0.1", "127.0.0.1", "fe80::1")}
    assert allowed == {"10.255.0.1": True, "fd12::1": True, "11.0.0.1": False, "127.0.0.1": False, "fe80::1": False}
    assert not policy.allowed("10.0.0.0", 0)  # the port is still checked
    assert not AddressPolicy(("0.0.0.0/0",)).allowed("224.0.0.1", 7000)  # and multicast still refused


def test_a_malformed_network_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        AddressPolicy(("10.0.0.0/33",))


# The node applies both to every datagram it sends ---------------------------------------------


@pytest.fixture
async def inbox_on() -> AsyncIterator[OpenInbox]:
    """Raw receivers on chosen loopback addresses, closed after the test."""
    endpoints: list[UdpEndpoint] = []

    async def _open(host: str) -> tuple[Inbox, Addr]:
        inbox = Inbox()
        endpoint = await endpoint_open(inbox, host)
        endpoints.append(endpoint)
        return inbox, endpoint.sockname

    yield _open
    for endpoint in endpoints:
        endpoint.close()


async def test_the_link_filter_sees_every_send_and_drops_what_it_refuses(
    make_hotkey: Callable[..., Hotkey], inbox_on: OpenInbox
) -> None:
    inbox, target = await inbox_on("127.0.0.1")
    links: list[tuple[Addr, Addr]] = []
    deliver = {"on": False}

    def link(src: Addr, dst: Addr) -> bool:
        links.append((src, dst))
        return deliver["on"]

    node = node_build(
        hotkey=make_hotkey("ed25519"),
        stake=StaticStakeSource(),
        config=config_with(rpc_timeout_s=0.2),
        link_filter=link,
    )
    await node.start()
    try:
        assert await node.ping(target) is None  # the datagram vanished: a timeout, as a lost one
        await asyncio.sleep(0.05)
        assert inbox.received == []
        assert links == [(node.addr, target)]
        deliver["on"] = True
        assert await node.ping(target) is None  # the raw socket never answers
        data, source = await inbox.next()
        assert source == node.addr
        assert b'"op":"ping"' in data
        assert links == [(node.addr, target)] * 2
        assert node.stats["rpc failures"] == 2
    finally:
        await node.stop()


async def test_a_node_never_sends_outside_its_allowed_networks(
    make_hotkey: Callable[..., Hotkey], inbox_on: OpenInbox
) -> None:
    inside, inside_addr = await inbox_on("127.0.0.1")
    outside, outside_addr = await inbox_on("127.0.0.2")  # loopback too, but not in the allowed /32
    links: list[Addr] = []

    def link(src: Addr, dst: Addr) -> bool:
        links.append(dst)
        return True

    node = node_build(
        hotkey=make_hotkey("ed25519"),
        stake=StaticStakeSource(),
        config=config_with(rpc_timeout_s=0.2, allowed_networks=("127.0.0.1/32",)),
        link_filter=link,
    )
    await node.start()
    try:
        assert await node.ping(outside_addr) is None
        assert await node.ping(("0.0.0.0", inside_addr[1])) is None
        assert await node.ping(inside_addr) is None
        await inside.next()
        await asyncio.sleep(0.05)
        assert outside.received == []
        assert links == [inside_addr]  # refused addresses never reach the link filter either
    finally:
        await node.stop()


async def test_a_stopped_node_sends_nothing(make_hotkey: Callable[..., Hotkey], inbox_on: OpenInbox) -> None:
    inbox, target = await inbox_on("127.0.0.1")
    node: DhtNode = node_build(
        hotkey=make_hotkey("ed25519"), stake=StaticStakeSource(), config=config_with(rpc_timeout_s=0.2)
    )
    await node.start()
    await node.stop()
    assert await node.ping(target) is None
    await asyncio.sleep(0.05)
    assert inbox.received == []
