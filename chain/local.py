"""LocalChain: a chain kept in Postgres for the local network and fast tests. Blocks advance on a
clock (genesis time + block_seconds), so every node computes the same height without a daemon.

Unlike the real backends this is not infrastructure: the local chain's state IS its tables (in the
shared `chain` database), so it reads them through `chain.selectors` and writes them itself."""

import math

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from chain.interface import ChainClient, ChainError, Metagraph, Neuron, NotRegistered, Role
from chain.models import LocalNeuron, LocalSubnet, LocalWeights
from chain.router import chain_alias
from chain.selectors import local_neuron, local_neuron_from_row, local_neurons


class LocalChain(ChainClient):
    def __init__(self, *, netuid: int | None = None) -> None:
        self.netuid = netuid if netuid is not None else settings.CHAIN_NETUID

    def _subnet(self) -> LocalSubnet:
        subnet, _ = LocalSubnet.objects.get_or_create(
            netuid=self.netuid,
            defaults={"genesis_at": timezone.now(), "block_seconds": settings.LOCAL_CHAIN_BLOCK_SECONDS},
        )
        return subnet

    def current_block(self) -> int:
        subnet = self._subnet()
        return int((timezone.now() - subnet.genesis_at).total_seconds() / subnet.block_seconds)

    def block_seconds(self) -> float:
        # From settings, not the subnet row: callers run in async code, and every node of a local
        # network is started with the block time the subnet was created with.
        return float(settings.LOCAL_CHAIN_BLOCK_SECONDS)

    def neurons(self) -> list[Neuron]:
        return local_neurons(netuid=self.netuid)

    def neuron(self, hotkey: str) -> Neuron | None:
        return local_neuron(netuid=self.netuid, hotkey=hotkey)

    def fetch_metagraph(self) -> Metagraph:
        return Metagraph(netuid=self.netuid, block=self.current_block(), tempo=0, neurons=self.neurons())

    def register(self, *, hotkey: str, coldkey: str, role: Role) -> Neuron:
        subnet = self._subnet()
        block = self.current_block()
        with transaction.atomic(using=chain_alias()):
            # Lock the subnet row so two registrations never take the same uid.
            LocalSubnet.objects.select_for_update().get(netuid=subnet.netuid)
            existing = LocalNeuron.objects.filter(subnet=subnet, hotkey=hotkey).first()
            if existing is not None:
                if existing.coldkey != coldkey:
                    raise ChainError(f"{hotkey} is registered to another coldkey", name="HotKeyAlreadyRegistered")
                LocalNeuron.objects.filter(pk=existing.pk).update(role=role)
                existing.refresh_from_db()
                return local_neuron_from_row(existing)
            top = LocalNeuron.objects.filter(subnet=subnet).aggregate(m=Max("uid"))["m"]
            try:
                row = LocalNeuron.objects.create(
                    subnet=subnet,
                    uid=0 if top is None else top + 1,
                    hotkey=hotkey,
                    coldkey=coldkey,
                    role=role,
                    registered_block=block,
                )
            except IntegrityError as exc:
                raise ChainError(str(exc), name="RegistrationConflict") from exc
        return local_neuron_from_row(row)

    def serve(self, *, hotkey: str, address: str) -> None:
        if not LocalNeuron.objects.filter(subnet_id=self.netuid, hotkey=hotkey).update(address=address):
            raise NotRegistered(f"{hotkey} is not registered on subnet {self.netuid}", name="HotKeyNotRegistered")

    def add_stake(self, *, hotkey: str, amount: int) -> None:
        if amount <= 0:
            raise ChainError("stake amount must be positive", name="AmountTooLow")
        updated = LocalNeuron.objects.filter(subnet_id=self.netuid, hotkey=hotkey).update(stake=F("stake") + amount)
        if not updated:
            raise NotRegistered(f"{hotkey} is not registered on subnet {self.netuid}", name="HotKeyNotRegistered")

    def set_weights(self, *, hotkey: str, weights: dict[str, float]) -> None:
        neuron = self.neuron(hotkey)
        if neuron is None:
            raise NotRegistered(f"{hotkey} is not registered", name="HotKeyNotRegistered")
        if any(not math.isfinite(w) or w < 0 for w in weights.values()):
            raise ChainError("weights must be finite and non-negative", name="InvalidWeights")
        total = sum(weights.values()) or 1.0
        LocalWeights.objects.create(
            subnet_id=self.netuid,
            validator_hotkey=hotkey,
            weights={k: v / total for k, v in weights.items()},
            block=self.current_block(),
        )
