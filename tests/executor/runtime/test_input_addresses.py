"""Which addresses a URL input may come from: every refused class, v4 and v6, and the embedded forms."""

import ipaddress

import pytest

from executor.runtime.input_addresses import address_parse, address_refusal, own_addresses, reached_address

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),  # global-scope multicast is still multicast
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("::", "unspecified"),
    ("192.0.2.1", "documentation"),
    ("2001:db8::1", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("2001::1", "Teredo"),
    ("::127.0.0.1", "IPv4-compatible"),
    ("fec0::1", "site-local"),
    ("64:ff9b:1::1", "local-use NAT64"),
    # IPv6 forms that reach an IPv4 address are judged by that address.
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("2002:c0a8:101::1", "private"),  # 6to4 of 192.168.1.1
]


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_a_non_public_address_is_refused(address: str, reason: str) -> None:
    refusal = address_refusal(address_parse(address))
    assert refusal is not None
    assert reason in refusal


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"]
)
def test_a_public_address_is_fetched_from(address: str) -> None:
    assert address_refusal(address_parse(address)) is None


def test_an_embedded_address_is_unwrapped() -> None:
    assert reached_address(address_parse("::ffff:1.2.3.4")) == ipaddress.IPv4Address("1.2.3.4")
    assert reached_address(address_parse("64:ff9b::102:304")) == ipaddress.IPv4Address("1.2.3.4")
    assert reached_address(address_parse("2001:4860::1")) == ipaddress.IPv6Address("2001:4860::1")


def test_the_nodes_own_public_address_is_refused() -> None:
    own = (ipaddress.ip_network("8.8.4.4/32"), ipaddress.ip_network("2606:4700::/32"))
    assert address_refusal(address_parse("8.8.4.4"), own=own) == "this node's own address"
    assert address_refusal(address_parse("::ffff:8.8.4.4"), own=own) == "this node's own address"
    assert address_refusal(address_parse("2606:4700::5"), own=own) == "this node's own address"
    assert address_refusal(address_parse("8.8.8.8"), own=own) is None


def test_own_addresses_are_every_interface_address_plus_the_configured_ones() -> None:
    configured = ipaddress.ip_network("8.8.4.4/32")
    own = own_addresses([configured])
    assert configured in own
    assert ipaddress.ip_network("127.0.0.1/32") in own  # the loopback interface is listed too
    assert all(net.num_addresses == 1 for net in own if net != configured)


def test_an_allowed_network_overrides_the_refusals() -> None:
    allowed = (ipaddress.ip_network("127.0.0.0/8"),)
    assert address_refusal(address_parse("127.0.0.1"), allowed=allowed) is None
    assert address_refusal(address_parse("::ffff:127.0.0.1"), allowed=allowed) is None
    assert address_refusal(address_parse("::1"), allowed=allowed) == "loopback"  # v6 loopback is not in it
    assert address_refusal(address_parse("10.0.0.1"), allowed=allowed) == "private"
