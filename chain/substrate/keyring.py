"""The keypairs a real-chain backend may sign with: this node's hotkey and, optionally, a coldkey.

A chain key file is the JSON `manage.py keygen` writes ({"crypto", "secret_seed"}); "ecdsa" (an
Ethereum-style key, for Hypertensor) is accepted too. Secrets never leave this module's objects:
errors name addresses and paths, never seeds."""

import json
from collections.abc import Iterable
from pathlib import Path

from substrateinterface import Keypair, KeypairType

from chain.interface import ChainError
from chain.substrate.extrinsics import account_id
from protocol.keys import SS58_FORMAT

_CRYPTO = {"sr25519": KeypairType.SR25519, "ed25519": KeypairType.ED25519, "ecdsa": KeypairType.ECDSA}


class KeyRing:
    def __init__(self, keypairs: Iterable[Keypair] = (), *, coldkey: Keypair | None = None) -> None:
        self.hotkeys = list(keypairs)
        self._by_account = {account_id(kp).lower(): kp for kp in self.hotkeys}
        self.coldkey = coldkey
        if coldkey is not None:
            self._by_account[account_id(coldkey).lower()] = coldkey

    def signer(self, account: str, *, purpose: str) -> Keypair:
        keypair = self._by_account.get(account.lower())
        if keypair is None:
            raise ChainError(
                f"{purpose} must be signed by {account}, whose key this node does not hold", name="NoSigningKey"
            )
        return keypair

    def hotkey_signer(self, *, purpose: str) -> Keypair:
        """The node's own chain hotkey (the first one given)."""
        if not self.hotkeys:
            raise ChainError(f"{purpose} needs this node's chain hotkey: set CHAIN_HOTKEY_PATH", name="NoSigningKey")
        return self.hotkeys[0]

    def coldkey_signer(self, *, purpose: str) -> Keypair:
        if self.coldkey is None:
            raise ChainError(f"{purpose} needs a coldkey: set CHAIN_COLDKEY_PATH", name="NoSigningKey")
        return self.coldkey


def chain_key_load(path: Path | str) -> Keypair:
    try:
        body = json.loads(Path(path).read_text())
        crypto = _CRYPTO[body.get("crypto", "sr25519")]
        seed = str(body["secret_seed"])
        if crypto == KeypairType.ECDSA:
            return Keypair.create_from_private_key(seed, crypto_type=crypto)
        return Keypair.create_from_seed(seed, crypto_type=crypto, ss58_format=SS58_FORMAT)
    except FileNotFoundError as exc:
        raise ChainError(f"no key file at {path}", name="NoSigningKey") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise ChainError(f"{path} is not a chain key file ({type(exc).__name__})", name="NoSigningKey") from exc
