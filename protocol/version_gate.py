"""Refusing peers below the subnet's minimum version, on both ends of a connection.

The server checks the dialer's hello (protocol/consumer.py) and the dialer checks the server's
reply (protocol/dialer.py); either way the refusal is a `VersionRefusal`, which travels as an
`ErrorMessage(VERSION_TOO_OLD)` and is raised again, typed, on the side that reads it."""

from protocol.database import db_sync_to_async
from protocol.messages.common import ErrorCode, ErrorMessage
from protocol.version import min_peer_version, version_refusal
from protocol.wire import ProtocolError


class VersionRefusal(ProtocolError):
    """The peer (or, read from an error reply, this node) is below the subnet's minimum version."""

    def __init__(self, detail: str) -> None:
        super().__init__(ErrorCode.VERSION_TOO_OLD, detail)


async def version_minimum() -> str | None:
    return await db_sync_to_async(min_peer_version)()


async def version_gate(peer_version: str | None) -> None:
    """Raises VersionRefusal unless a peer announcing `peer_version` meets the minimum."""
    refusal = version_refusal(peer_version=peer_version, minimum=await version_minimum())
    if refusal is not None:
        raise VersionRefusal(refusal)


def version_refusal_from_error(message: ErrorMessage) -> VersionRefusal | None:
    """The typed refusal a peer sent back, if it was one: then *we* are too old for it."""
    if message.code != ErrorCode.VERSION_TOO_OLD:
        return None
    return VersionRefusal(f"refused by the peer: {message.detail}")


def predates_version_field(exc: ProtocolError) -> bool:
    """Did a peer reject our hello for its `node_version`? Then it runs a version from before the
    field (0.1.x), whose strict handshake model does not know it."""
    return exc.code == ErrorCode.MALFORMED and "node_version" in exc.detail
