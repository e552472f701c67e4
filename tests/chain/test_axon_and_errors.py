import pytest
from substrateinterface.exceptions import SubstrateRequestException
from websocket import WebSocketTimeoutException

from chain.interface import ChainError, ChainUnavailable, MalformedResponse, NotRegistered, RateLimited
from chain.substrate.axon import AxonAddress, format_address, parse_address
from chain.substrate.errors import dispatch_error, translate


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


def test_dispatch_errors_become_typed_errors_named_after_the_runtime_error():
    too_fast = dispatch_error({"type": "Module", "name": "SettingWeightsTooFast", "docs": ["rate"]}, retry_at_block=9)
    assert isinstance(too_fast, RateLimited)
    assert (too_fast.name, too_fast.retry_at_block, str(too_fast)) == (
        "SettingWeightsTooFast",
        9,
        "SettingWeightsTooFast: rate",
    )
    assert isinstance(dispatch_error({"type": "Module", "name": "HotKeyNotRegisteredInSubNet"}), NotRegistered)
    bad_ip = dispatch_error({"type": "Module", "name": "InvalidIpAddress", "docs": []})
    assert (type(bad_ip), bad_ip.name) == (ChainError, "InvalidIpAddress")
    assert dispatch_error({"type": "BadOrigin", "name": None}).name == "BadOrigin"
    assert dispatch_error(None).name == "ExtrinsicFailed"


def test_transport_and_rpc_failures_are_translated():
    endpoint = "ws://127.0.0.1:1"
    assert isinstance(translate(ConnectionRefusedError(111, "refused"), endpoint=endpoint), ChainUnavailable)
    assert isinstance(translate(TimeoutError("timed out"), endpoint=endpoint), ChainUnavailable)
    assert isinstance(translate(WebSocketTimeoutException("slow"), endpoint=endpoint), ChainUnavailable)
    pool = translate(
        SubstrateRequestException(
            {"code": 1010, "message": "Invalid Transaction", "data": "Inability to pay some fees"}
        ),
        endpoint=endpoint,
    )
    assert (pool.name, str(pool)) == (
        "InvalidTransaction",
        "transaction refused: Invalid Transaction Inability to pay some fees",
    )
    assert isinstance(translate(ValueError("bad scale"), endpoint=endpoint), MalformedResponse)
