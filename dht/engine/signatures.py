"""Signature checks on the DHT's hot path: protocol.keys.verify_signature, with the decoded public
key cached per hotkey (decoding the SS58 address cost as much as the check itself)."""

from functools import lru_cache

from substrateinterface import Keypair

from protocol.keys import public_keypair


@lru_cache(maxsize=8192)
def _public(ss58: str, crypto: str) -> Keypair | None:
    return public_keypair(ss58, crypto)


def signature_ok(*, ss58: str, crypto: str, data: bytes, signature: str) -> bool:
    """True only for a well-formed signature by `ss58` over `data`; never raises on bad input."""
    public = _public(ss58, crypto)
    if public is None:
        return False
    try:
        return bool(public.verify(data, bytes.fromhex(signature.removeprefix("0x"))))
    except (ValueError, TypeError, IndexError):
        return False
