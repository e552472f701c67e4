"""The mutual signed handshake that opens every connection.

The dialer sends a `Handshake` naming itself, the peer it means to reach, a timestamp and a fresh
nonce, signed. The server checks it (signature, addressed to me, fresh, nonce unseen) and answers
with its own signed `Handshake` carrying the dialer's nonce as `peer_nonce`, which the dialer
checks the same way. A captured hello cannot be replayed (nonce, age) or redirected (peer).
Over TLS both also sign the server certificate's fingerprint, which binds the session to the
channel (protocol/tls.py): a relay with its own certificate is refused."""

import secrets
import time
from typing import Protocol

from protocol.canonical import canonical_json
from protocol.keys import Hotkey, verify_signature
from protocol.messages.common import ErrorCode, Handshake
from protocol.tls import tls_binding_check
from protocol.version import NODE_VERSION
from protocol.wire import ProtocolError


class NonceStore(Protocol):
    async def remember(self, key: str, ttl_s: float) -> bool:
        """Record `key`; False if it was already seen within its ttl."""


def handshake_build(
    *,
    hotkey: Hotkey,
    peer_hotkey: str,
    path: str,
    peer_nonce: str | None = None,
    tls_fingerprint: str | None = None,
    node_version: str | None = NODE_VERSION,
) -> Handshake:
    unsigned = Handshake(
        path=path,
        hotkey=hotkey.ss58,
        crypto=hotkey.crypto,
        peer_hotkey=peer_hotkey,
        timestamp=time.time(),
        nonce=secrets.token_hex(16),
        peer_nonce=peer_nonce,
        signature="",
        tls_fingerprint=tls_fingerprint,
        node_version=node_version,
    )
    signature = hotkey.sign(canonical_json(unsigned.signed_fields()))
    return unsigned.model_copy(update={"signature": signature})


async def handshake_verify(
    *,
    message: Handshake,
    own_hotkey: str,
    path: str,
    nonces: NonceStore,
    max_age_s: float,
    expected_peer: str | None = None,
    expected_peer_nonce: str | None = None,
    channel_fingerprint: str | None = None,
    dialer: bool = False,
) -> None:
    """Raises ProtocolError(UNAUTHENTICATED) unless `message` is a fresh hello meant for us; with
    `channel_fingerprint` (the server certificate on our end of the TLS channel), a TlsRefusal
    unless the peer signed that same fingerprint. `dialer`: `message` is a server's reply."""

    def refuse(reason: str) -> ProtocolError:
        return ProtocolError(ErrorCode.UNAUTHENTICATED, f"handshake refused: {reason}")

    if message.peer_hotkey != own_hotkey:
        raise refuse("addressed to another node")
    if message.path != path:
        raise refuse(f"signed for path {message.path!r}, not {path!r}")
    if expected_peer is not None and message.hotkey != expected_peer:
        raise refuse(f"expected {expected_peer}, got {message.hotkey}")
    if expected_peer_nonce is not None and message.peer_nonce != expected_peer_nonce:
        raise refuse("reply does not answer our nonce")
    age = time.time() - message.timestamp
    if not abs(age) <= max_age_s:  # written so a NaN timestamp fails too
        raise refuse(f"timestamp is {age:.0f}s off (max {max_age_s:.0f}s)")
    data = canonical_json(message.signed_fields())
    if not verify_signature(ss58=message.hotkey, crypto=message.crypto, data=data, signature=message.signature):
        raise refuse("bad signature")
    if channel_fingerprint is not None:  # after the signature: only an authenticated claim is compared
        tls_binding_check(signed=message.tls_fingerprint, seen=channel_fingerprint, dialer=dialer)
    if not await nonces.remember(f"{message.hotkey}:{message.nonce}", ttl_s=2 * max_age_s):
        raise refuse("nonce replayed")
