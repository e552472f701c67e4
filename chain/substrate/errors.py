"""Turns what substrate-interface raises or reports into Meshwork's typed chain errors."""

import socket
from typing import Any

from scalecodec.exceptions import RemainingScaleBytesNotEmptyException
from substrateinterface.exceptions import (
    BlockNotFound,
    StorageFunctionNotFound,
    SubstrateRequestException,
)
from websocket import WebSocketException

from chain.interface import ChainError, ChainUnavailable, MalformedResponse, NotRegistered, RateLimited

# Module errors that mean "too soon": the same call succeeds at a later block.
RATE_LIMIT_ERRORS = frozenset(
    {
        "SettingWeightsTooFast",
        "CommittingWeightsTooFast",
        "ServingRateLimitExceeded",
        "TxRateLimitExceeded",
        "StakingRateLimitExceeded",
        "NetworkTxRateLimitExceeded",
        "TooManyRegistrationsThisBlock",
        "TooManyRegistrationsThisInterval",
        "RevealTooEarly",
        "TooManyUnrevealedCommits",
    }
)
NOT_REGISTERED_ERRORS = frozenset(
    {
        "HotKeyNotRegisteredInSubNet",
        "HotKeyNotRegisteredInNetwork",
        "HotKeyAccountNotExists",
        "NotRegistered",
        "SubnetNodeNotExist",
    }
)

TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionRefusedError, socket.timeout, TimeoutError, DNS failures
    socket.timeout,
    WebSocketException,
    BrokenPipeError,
)
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    NotImplementedError,
    RemainingScaleBytesNotEmptyException,
)


def dispatch_error(error: dict[str, Any] | None, *, retry_at_block: int | None = None) -> ChainError:
    """A failed extrinsic's `error_message` ({'type', 'name', 'docs'}) as a typed ChainError."""
    if not isinstance(error, dict):
        return ChainError(f"extrinsic failed: {error!r}", name="ExtrinsicFailed")
    name = str(error.get("name") or error.get("type") or "ExtrinsicFailed")
    docs = " ".join(str(d) for d in error.get("docs") or []).strip()
    message = f"{name}: {docs}" if docs else name
    if name in RATE_LIMIT_ERRORS:
        return RateLimited(message, name=name, retry_at_block=retry_at_block)
    if name in NOT_REGISTERED_ERRORS:
        return NotRegistered(message, name=name)
    return ChainError(message, name=name)


def translate(exc: BaseException, *, endpoint: str) -> ChainError:
    """Any exception raised while talking to the node, as a ChainError (never leaks a key)."""
    if isinstance(exc, ChainError):
        return exc
    if isinstance(exc, TRANSPORT_ERRORS):
        return ChainUnavailable(f"{endpoint}: {type(exc).__name__}: {exc}", name="Unavailable")
    if isinstance(exc, SubstrateRequestException):
        return _request_error(exc)
    if isinstance(exc, StorageFunctionNotFound):
        return ChainError(f"the runtime lacks {exc}", name="UnsupportedRuntime")
    if isinstance(exc, BlockNotFound):
        return MalformedResponse(f"{endpoint}: {exc}")
    if isinstance(exc, DECODE_ERRORS):
        return MalformedResponse(f"{endpoint}: undecodable answer: {type(exc).__name__}: {exc}")
    return ChainError(f"{endpoint}: {type(exc).__name__}: {exc}", name=type(exc).__name__)


def _request_error(exc: SubstrateRequestException) -> ChainError:
    """JSON-RPC errors: 1010 is a transaction the pool refused (bad nonce, no funds, custom check)."""
    body = exc.args[0] if exc.args else None
    if isinstance(body, dict):
        code = body.get("code")
        detail = f"{body.get('message', '')} {body.get('data', '')}".strip()
        if code == 1010:
            return ChainError(f"transaction refused: {detail}", name="InvalidTransaction")
        return ChainError(f"RPC error {code}: {detail}", name="RpcError")
    return ChainError(f"RPC error: {exc}", name="RpcError")
