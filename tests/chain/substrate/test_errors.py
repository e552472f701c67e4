"""What substrate-interface raises, as Meshwork's typed chain errors (chain/substrate/errors.py)."""

from substrateinterface.exceptions import SubstrateRequestException
from websocket import WebSocketTimeoutException

from chain.interface import ChainError, ChainUnavailable, MalformedResponse, NotRegistered, RateLimited
from chain.substrate.errors import dispatch_error, translate


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
