"""Hotkeys: sr25519 (default) or ed25519 Substrate keypairs, kept in a 0600 JSON file."""

import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from substrateinterface import Keypair, KeypairType

CryptoType = Literal["sr25519", "ed25519"]
_CRYPTO: dict[str, int] = {"sr25519": KeypairType.SR25519, "ed25519": KeypairType.ED25519}
SS58_FORMAT = 42


class KeyFileError(Exception):
    """The hotkey file is missing, unreadable or malformed."""


@dataclass(frozen=True)
class Hotkey:
    """A private hotkey. `ss58` is the public identity every other node knows us by."""

    keypair: Keypair
    crypto: CryptoType

    @property
    def ss58(self) -> str:
        return str(self.keypair.ss58_address)

    def sign(self, data: bytes) -> str:
        return "0x" + bytes(self.keypair.sign(data)).hex()

    @classmethod
    def from_seed(cls, seed_hex: str, crypto: CryptoType = "sr25519") -> "Hotkey":
        kp = Keypair.create_from_seed(seed_hex, crypto_type=_CRYPTO[crypto], ss58_format=SS58_FORMAT)
        return cls(keypair=kp, crypto=crypto)


@lru_cache(maxsize=8192)
def public_keypair(ss58: str, crypto: str) -> Keypair | None:
    """The verifying half of `ss58` for `crypto`, or None when either is malformed. Cached: decoding
    an SS58 address costs as much as checking a signature, and hot paths (the DHT) check the same
    peers' signatures over and over."""
    if crypto not in _CRYPTO:
        return None
    try:
        return Keypair(ss58_address=ss58, crypto_type=_CRYPTO[crypto], ss58_format=SS58_FORMAT)
    except (ValueError, TypeError, IndexError):
        return None


def verify_signature(*, ss58: str, crypto: str, data: bytes, signature: str) -> bool:
    """True only for a well-formed signature by `ss58` over `data`; never raises on bad input."""
    public = public_keypair(ss58, crypto)
    if public is None:
        return False
    try:
        return bool(public.verify(data, bytes.fromhex(signature.removeprefix("0x"))))
    except (ValueError, TypeError, IndexError):
        return False


def is_ss58(value: str) -> bool:
    try:
        Keypair(ss58_address=value, ss58_format=SS58_FORMAT)
    except (ValueError, TypeError, IndexError):
        return False
    return True


def hotkey_write(*, path: Path, hotkey: Hotkey, seed_hex: str, overwrite: bool = False) -> None:
    """Write the key file readable by its owner only; refuses to clobber an existing key."""
    if path.exists() and not overwrite:
        raise KeyFileError(f"{path} exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"crypto": hotkey.crypto, "secret_seed": seed_hex, "ss58_address": hotkey.ss58}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(body, f)
    os.chmod(path, 0o600)


def hotkey_load(path: Path) -> Hotkey:
    try:
        body = json.loads(Path(path).read_text())
        hotkey = Hotkey.from_seed(body["secret_seed"], body.get("crypto", "sr25519"))
    except FileNotFoundError as exc:
        raise KeyFileError(f"no hotkey at {path}: run `python manage.py keygen`") from exc
    except OSError as exc:
        raise KeyFileError(f"cannot read {path}: {exc}") from exc
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise KeyFileError(f"{path} is not a Meshwork hotkey file: {exc}") from exc
    if body.get("ss58_address") not in (None, hotkey.ss58):
        raise KeyFileError(f"{path}: the address does not match the secret seed")
    return hotkey


def hotkey_create(crypto: CryptoType = "sr25519") -> tuple[Hotkey, str]:
    seed = secrets.token_bytes(32).hex()
    return Hotkey.from_seed(seed, crypto), seed
