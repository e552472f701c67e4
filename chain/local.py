"""LocalChain: a chain kept in Postgres for the local network and fast tests. Blocks advance on a
clock (genesis time + block_seconds), so every node computes the same height without a daemon.

Unlike the real backends this is not infrastructure: the local chain's state IS its tables (in the
shared `chain` database), so it reads them through `chain.selectors` and writes them itself.

Weights follow subtensor's rules (spec 218, commit-reveal v2): a subnet with commit-reveal refuses
direct weights, a commit's reveal window is the whole epoch `reveal_period` epochs after the
commit's, and weights or commits come at most every `weights_rate_limit` blocks per hotkey."""

import math
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from chain.interface import (
    ChainError,
    CommitRevealChain,
    CommitWindow,
    Metagraph,
    Neuron,
    NotRegistered,
    RateLimited,
    Role,
    WeightsPlan,
)
from chain.models import LocalNeuron, LocalSubnet, LocalWeightCommit, LocalWeights
from chain.router import chain_alias
from chain.selectors import local_neuron, local_neuron_from_row, local_neurons
from chain.substrate.weights import commit_hash, normalize_u16
from protocol.keys import public_keypair

MAX_UNREVEALED_COMMITS = 10  # per hotkey, as subtensor


def reveal_window(*, netuid: int, tempo: int, reveal_period: int, commit_block: int) -> tuple[int, int]:
    """First and last block a commit made at `commit_block` may be revealed (subtensor's
    `get_reveal_blocks`: epochs are offset by netuid + 1 so subnets do not all turn at once)."""
    epoch = (commit_block + netuid + 1) // (tempo + 1)
    first = max(0, (epoch + reveal_period) * (tempo + 1) - (netuid + 1))
    return first, first + tempo


def _rules() -> dict[str, int | bool]:
    return {
        "tempo": settings.LOCAL_CHAIN_TEMPO,
        "commit_reveal": settings.LOCAL_CHAIN_COMMIT_REVEAL,
        "reveal_period": settings.LOCAL_CHAIN_REVEAL_PERIOD,
        "weights_rate_limit": settings.LOCAL_CHAIN_WEIGHTS_RATE_LIMIT,
    }


def _account(hotkey: str) -> bytes:
    keypair = public_keypair(hotkey, "sr25519")  # the SS58 decodes to the same 32 bytes for ed25519
    if keypair is None:
        raise ChainError(f"{hotkey} is not an SS58 address", name="InvalidHotkey")
    return bytes(keypair.public_key)


class LocalChain(CommitRevealChain):
    def __init__(self, *, netuid: int | None = None) -> None:
        self.netuid = netuid if netuid is not None else settings.CHAIN_NETUID

    def _subnet(self) -> LocalSubnet:
        subnet, _ = LocalSubnet.objects.get_or_create(
            netuid=self.netuid,
            defaults={"genesis_at": timezone.now(), "block_seconds": settings.LOCAL_CHAIN_BLOCK_SECONDS, **_rules()},
        )
        return subnet

    def rules_apply(self) -> None:
        """Give the subnet the LOCAL_CHAIN_* weight rules now (a subtensor subnet owner's
        hyperparameter calls): a local network restarted with other settings keeps its chain."""
        self._subnet()
        LocalSubnet.objects.filter(netuid=self.netuid).update(**_rules())

    def current_block(self) -> int:
        return self._block(self._subnet())

    @staticmethod
    def _block(subnet: LocalSubnet) -> int:
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
        subnet = self._subnet()
        return Metagraph(
            netuid=self.netuid,
            block=self._block(subnet),
            tempo=subnet.tempo,
            neurons=self.neurons(),
            commit_reveal=subnet.commit_reveal,
            weights_rate_limit=subnet.weights_rate_limit,
            weights_version=subnet.weights_version,
        )

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
        """Weights by hotkey, normalised to sum 1 (all zeros are kept as zeros)."""
        subnet = self._subnet()
        if self.neuron(hotkey) is None:
            raise NotRegistered(f"{hotkey} is not registered", name="HotKeyNotRegistered")
        if any(not math.isfinite(w) or w < 0 for w in weights.values()):
            raise ChainError("weights must be finite and non-negative", name="InvalidWeights")
        if subnet.commit_reveal:
            raise ChainError(
                f"subnet {self.netuid} requires commit-reveal: set weights through the weights service",
                name="CommitRevealRequired",
            )
        total = sum(weights.values()) or 1.0
        normalised = {k: v / total for k, v in weights.items()}
        self._rate_limited(subnet, hotkey, "SettingWeightsTooFast", lambda b: self._store(hotkey, normalised, b))

    # --- weights, step by step (commit-reveal is orchestrated by chain.services.weight_commits)
    def weights_plan(self, *, hotkey: str, weights: dict[str, float]) -> WeightsPlan:
        """uids and u16 values for `weights` (hotkeys not registered are left out)."""
        subnet = self._subnet()
        uids = {n.hotkey: n.uid for n in self.neurons()}
        if hotkey not in uids:
            raise NotRegistered(f"{hotkey} is not registered on subnet {self.netuid}", name="HotKeyNotRegistered")
        by_uid: dict[int, float] = {}
        for target, weight in weights.items():
            if target in uids:
                by_uid[uids[target]] = by_uid.get(uids[target], 0.0) + weight
        dests, values = normalize_u16(by_uid)
        return WeightsPlan(
            hotkey=hotkey,
            uid=uids[hotkey],
            account=_account(hotkey),
            uids=dests,
            values=values,
            version_key=0,
            commit_reveal=subnet.commit_reveal,
            rate_limit=subnet.weights_rate_limit,
        )

    def weights_send(self, plan: WeightsPlan) -> None:
        subnet = self._subnet()
        if subnet.commit_reveal:
            raise ChainError(f"subnet {self.netuid} requires commit-reveal", name="CommitRevealEnabled")
        weights = self._by_hotkey(plan.uids, plan.values)
        self._rate_limited(subnet, plan.hotkey, "SettingWeightsTooFast", lambda b: self._store(plan.hotkey, weights, b))

    def weights_commit(self, plan: WeightsPlan, *, commit_hash: str) -> None:
        subnet = self._subnet()
        if not subnet.commit_reveal:
            raise ChainError(f"subnet {self.netuid} does not use commit-reveal", name="CommitRevealDisabled")

        def commit(block: int) -> None:
            held = LocalWeightCommit.objects.filter(subnet=subnet, hotkey=plan.hotkey)
            held.filter(reveal_until_block__lt=block).delete()  # expired: the runtime drops them too
            if held.count() >= MAX_UNREVEALED_COMMITS:
                raise RateLimited(
                    f"{plan.hotkey} holds {MAX_UNREVEALED_COMMITS} unrevealed commits",
                    name="TooManyUnrevealedCommits",
                )
            first, last = reveal_window(
                netuid=self.netuid, tempo=subnet.tempo, reveal_period=subnet.reveal_period, commit_block=block
            )
            LocalWeightCommit.objects.create(
                subnet=subnet,
                hotkey=plan.hotkey,
                commit_hash=commit_hash,
                commit_block=block,
                reveal_from_block=first,
                reveal_until_block=last,
            )

        self._rate_limited(subnet, plan.hotkey, "CommittingWeightsTooFast", commit)

    def weights_commits(self, *, hotkey: str) -> list[CommitWindow]:
        rows = LocalWeightCommit.objects.filter(subnet_id=self.netuid, hotkey=hotkey).order_by("commit_block", "id")
        return [
            CommitWindow(
                commit_hash=row.commit_hash,
                commit_block=row.commit_block,
                reveal_from_block=row.reveal_from_block,
                reveal_until_block=row.reveal_until_block,
            )
            for row in rows
        ]

    def weights_reveal(
        self, *, hotkey: str, uids: list[int], values: list[int], salt: list[int], version_key: int
    ) -> None:
        subnet = self._subnet()
        if not subnet.commit_reveal:
            raise ChainError(f"subnet {self.netuid} does not use commit-reveal", name="CommitRevealDisabled")
        if self.neuron(hotkey) is None:
            raise NotRegistered(f"{hotkey} is not registered on subnet {self.netuid}", name="HotKeyNotRegistered")
        if len(uids) != len(values):
            raise ChainError("uids and values differ in length", name="WeightVecNotEqualSize")
        digest = commit_hash(
            account=_account(hotkey), netuid=self.netuid, uids=uids, values=values, salt=salt, version_key=version_key
        )
        weights = self._by_hotkey(uids, values)
        with transaction.atomic(using=chain_alias()):
            block = self._block(subnet)
            held = list(
                LocalWeightCommit.objects.select_for_update()
                .filter(subnet=subnet, hotkey=hotkey)
                .order_by("commit_block", "id")
            )
            if not held:
                raise ChainError(f"{hotkey} has no weight commit on subnet {self.netuid}", name="NoWeightsCommitFound")
            position = next((i for i, c in enumerate(held) if c.commit_hash == digest), None)
            if position is None:
                raise ChainError(
                    f"no commit of {hotkey} matches these weights and salt", name="InvalidRevealCommitHashNotMatch"
                )
            found = held[position]
            if block > found.reveal_until_block:
                raise ChainError(
                    f"the reveal window of {digest} ended at block {found.reveal_until_block}",
                    name="ExpiredWeightCommit",
                )
            if block < found.reveal_from_block:
                raise RateLimited(
                    f"{digest} may be revealed from block {found.reveal_from_block}",
                    name="RevealTooEarly",
                    retry_at_block=found.reveal_from_block,
                )
            # As the runtime: this commit and every older one are consumed.
            LocalWeightCommit.objects.filter(pk__in=[c.pk for c in held[: position + 1]]).delete()
            self._store(hotkey, weights, block)

    # --- plumbing
    def _by_hotkey(self, uids: list[int], values: list[int]) -> dict[str, float]:
        """u16 values by uid → weights by hotkey summing to 1 (what LocalWeights holds)."""
        hotkeys = {n.uid: n.hotkey for n in self.neurons()}
        unknown = [uid for uid in uids if uid not in hotkeys]
        if unknown:
            raise ChainError(f"uids {unknown} are not on subnet {self.netuid}", name="UidVecContainInvalidOne")
        total = sum(values) or 1
        return {hotkeys[uid]: value / total for uid, value in zip(uids, values, strict=True)}

    def _store(self, hotkey: str, weights: dict[str, float], block: int) -> None:
        LocalWeights.objects.create(subnet_id=self.netuid, validator_hotkey=hotkey, weights=weights, block=block)

    def _rate_limited(self, subnet: LocalSubnet, hotkey: str, name: str, write: Callable[[int], None]) -> None:
        """Run `write(block)` if `hotkey` may set weights (or commit) now, and record the block. The
        neuron's row is locked, so two concurrent calls cannot both pass the limit."""
        with transaction.atomic(using=chain_alias()):
            row = LocalNeuron.objects.select_for_update().filter(subnet=subnet, hotkey=hotkey).first()
            if row is None:
                raise NotRegistered(f"{hotkey} is not registered on subnet {self.netuid}", name="HotKeyNotRegistered")
            block = self._block(subnet)
            if row.last_update is not None and block < row.last_update + subnet.weights_rate_limit:
                retry_at = row.last_update + subnet.weights_rate_limit
                raise RateLimited(
                    f"{hotkey} set weights at block {row.last_update}; allowed again at block {retry_at}",
                    name=name,
                    retry_at_block=retry_at,
                )
            write(block)
            LocalNeuron.objects.filter(pk=row.pk).update(last_update=block)
