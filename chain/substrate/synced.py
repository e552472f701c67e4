"""What the real-chain backends share: one connection, signing keys, a block time. No database:
what they read is stored by `chain.services` and read back through `chain.selectors`."""

from collections.abc import Callable

from chain.interface import ChainClient
from chain.substrate.connection import SubstrateConnection
from chain.substrate.keyring import KeyRing

DEFAULT_BLOCK_SECONDS = 12.0


class SyncedChain(ChainClient):
    synced = True
    connection: SubstrateConnection

    def __init__(
        self,
        *,
        connection: SubstrateConnection,
        keyring: KeyRing | Callable[[], KeyRing] | None = None,
        block_seconds: float = DEFAULT_BLOCK_SECONDS,
    ) -> None:
        self.connection = connection
        # A callable is called on the first signature: missing key files only fail the writes.
        self._keyring = keyring if keyring is not None else KeyRing()
        self._block_seconds = block_seconds

    @property
    def keyring(self) -> KeyRing:
        if not isinstance(self._keyring, KeyRing):
            self._keyring = self._keyring()
        return self._keyring

    def block_seconds(self) -> float:
        return self._block_seconds

    def close(self) -> None:
        self.connection.close()
