"""How a Meshwork node appears on Hypertensor.

Hypertensor accounts are 20-byte Ethereum keys; Meshwork identities are SS58 hotkeys. A Meshwork
node registers its SS58 hotkey as the subnet node's `unique` parameter (the pallet keeps it unique
per subnet), and its three libp2p-style peer ids are derived from that hotkey. The address it serves
on goes in `bootnode` as a multiaddr."""

import hashlib

import base58

from chain.interface import ChainError
from chain.substrate.axon import format_address, parse_address
from protocol.keys import is_ss58

PEER_ID_ROLES = ("peer", "bootnode", "client")


def derived_peer_ids(hotkey: str) -> dict[str, str]:
    """Three distinct peer ids (sha2-256 multihashes, base58 "Qm…") bound to a Meshwork hotkey."""
    return {
        role: base58.b58encode(b"\x12\x20" + hashlib.sha256(f"meshwork/{role}/{hotkey}".encode()).digest()).decode()
        for role in PEER_ID_ROLES
    }


def identity_of(*, unique: str | None, account: str) -> str:
    """The node's Meshwork hotkey if it registered one, else its chain account (0x-hex, lower case)."""
    if unique and is_ss58(unique):
        return unique
    return account.lower()


def to_multiaddr(address: str) -> str:
    axon = parse_address(address)
    host = format_address(ip=axon.ip, port=axon.port, ip_type=axon.ip_type) or ""
    ip = host.rpartition(":")[0].strip("[]")
    return f"/ip{axon.ip_type}/{ip}/tcp/{axon.port}"


def from_multiaddr(value: str | None) -> str | None:
    """ "/ip4/1.2.3.4/tcp/80[/p2p/…]" (or ip6, dns, dns4, dns6) → "host:port"; None if not one."""
    if not value:
        return None
    parts = value.strip().split("/")
    if len(parts) >= 5 and parts[0] == "" and parts[3] == "tcp" and parts[4].isdigit():
        kind, host, port = parts[1], parts[2], parts[4]
        if kind == "ip6":
            return f"[{host}]:{port}"
        if kind in ("ip4", "dns", "dns4", "dns6"):
            return f"{host}:{port}"
    return None


def require_account(value: str) -> str:
    raw = value.lower().removeprefix("0x")
    if len(raw) != 40 or any(c not in "0123456789abcdef" for c in raw):
        raise ChainError(f"{value!r} is not a 20-byte Hypertensor account (0x + 40 hex)", name="InvalidAccount")
    return "0x" + raw
