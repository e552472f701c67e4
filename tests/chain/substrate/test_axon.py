"""Serving addresses as subtensor stores them (chain/substrate/axon.py)."""

import pytest

from chain.interface import ChainError
from chain.substrate.axon import AxonAddress, format_address, parse_address


def test_ipv4_and_ipv6_addresses_round_trip():
    v4 = parse_address("203.0.113.7:8000")
    assert v4 == AxonAddress(ip=(203 << 24) | (113 << 8) | 7, port=8000, ip_type=4)
    assert format_address(ip=v4.ip, port=v4.port, ip_type=4) == "203.0.113.7:8000"
    v6 = parse_address("[2001:db8::1]:9000")
    assert v6.ip_type == 6
    assert format_address(ip=v6.ip, port=9000, ip_type=6) == "[2001:db8::1]:9000"


@pytest.mark.parametrize("address", ["example.org:80", "1.2.3.4", "1.2.3.4:0", "1.2.3.4:70000", ":80", "1.2.3.4:x"])
def test_unusable_addresses_are_refused(address):
    with pytest.raises(ChainError) as refused:
        parse_address(address)
    assert refused.value.name == "InvalidAddress"


def test_an_empty_axon_announces_nothing():
    assert format_address(ip=0, port=0, ip_type=4) is None
    assert format_address(ip=2**40, port=80, ip_type=4) is None  # not an IPv4 address
