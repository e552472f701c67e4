"""What the real-chain backends share: reads served from the synced metagraph in Postgres, signing
keys from settings, one connection."""

from django.conf import settings

from chain.interface import ChainClient, Neuron
from chain.metagraph_selectors import metagraph_neuron, metagraph_neurons, metagraph_snapshot
from chain.services.metagraph import metagraph_sync
from chain.substrate.connection import SubstrateConnection
from chain.substrate.keyring import KeyRing, default_keyring


class SyncedChain(ChainClient):
    synced = True
    connection: SubstrateConnection
    _keyring: KeyRing | None

    @property
    def keyring(self) -> KeyRing:
        if self._keyring is None:
            self._keyring = default_keyring()
        return self._keyring

    def block_seconds(self) -> float:
        return float(settings.CHAIN_BLOCK_SECONDS)

    def neurons(self) -> list[Neuron]:
        """The stored metagraph (Postgres only), synced once first if this node never synced."""
        self._ensure_synced()
        return metagraph_neurons(chain=self.name, netuid=self.netuid) or []

    def neuron(self, hotkey: str) -> Neuron | None:
        self._ensure_synced()
        return metagraph_neuron(chain=self.name, netuid=self.netuid, hotkey=hotkey)

    def _ensure_synced(self) -> None:
        if metagraph_snapshot(chain=self.name, netuid=self.netuid) is None:
            metagraph_sync(client=self, force=True)

    def close(self) -> None:
        self.connection.close()
