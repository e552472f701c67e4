"""Signing and submitting one extrinsic, and reading what it did (events or a typed module error)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from substrateinterface import Keypair, KeypairType, SubstrateInterface

from chain.substrate.errors import dispatch_error

MORTAL_PERIOD = 64  # blocks a signed extrinsic stays valid: a stuck one cannot be replayed later


@dataclass(frozen=True)
class Event:
    pallet: str
    name: str
    attributes: Any


@dataclass(frozen=True)
class Receipt:
    block_hash: str
    extrinsic_hash: str
    events: list[Event]

    def event(self, pallet: str, name: str) -> Event | None:
        return next((e for e in self.events if (e.pallet, e.name) == (pallet, name)), None)


def account_id(keypair: Keypair) -> str:
    """How storage and calls name the signer: SS58 for 32-byte keys, 0x-hex H160 for Ethereum keys."""
    if keypair.crypto_type == KeypairType.ECDSA:
        return "0x" + bytes(keypair.public_key).hex()
    return str(keypair.ss58_address)


def account_nonce(si: SubstrateInterface, keypair: Keypair) -> int:
    # Read from System.Account: Chopsticks does not serve `account_nextIndex`.
    info = si.query("System", "Account", [account_id(keypair)])
    return int(info.value["nonce"])


def sign(si: SubstrateInterface, *, signer: Keypair, pallet: str, function: str, params: Mapping[str, Any]) -> Any:
    call = si.compose_call(call_module=pallet, call_function=function, call_params=params)
    return si.create_signed_extrinsic(
        call=call, keypair=signer, nonce=account_nonce(si, signer), era={"period": MORTAL_PERIOD}
    )


def submit(
    si: SubstrateInterface, *, signer: Keypair, pallet: str, function: str, params: Mapping[str, Any]
) -> Receipt:
    """Sign with `signer`, submit, wait for inclusion. A dispatch error raises a typed ChainError
    named after the runtime's error (RateLimited for "too soon", NotRegistered, ...)."""
    extrinsic = sign(si, signer=signer, pallet=pallet, function=function, params=params)
    result = si.submit_extrinsic(extrinsic, wait_for_inclusion=True)
    if not result.is_success:
        raise dispatch_error(result.error_message)
    events = [
        Event(pallet=str(e.value["module_id"]), name=str(e.value["event_id"]), attributes=e.value["attributes"])
        for e in result.triggered_events
    ]
    return Receipt(block_hash=str(result.block_hash), extrinsic_hash=str(result.extrinsic_hash), events=events)
