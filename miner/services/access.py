"""The validators on the chain, copied so admission (miner.selectors.validator_refusal) never waits on it."""

from django.db import transaction

from chain.interface import Role
from chain.selectors import chain_neurons
from miner.models import KnownValidator
from miner.services.storage_space import storage_allocations_recompute


def validators_sync_from_chain() -> int:
    validators = [n for n in chain_neurons() if n.role == Role.VALIDATOR]
    with transaction.atomic():
        for n in validators:
            KnownValidator.objects.update_or_create(hotkey=n.hotkey, defaults={"coldkey": n.coldkey, "stake": n.stake})
        KnownValidator.objects.exclude(hotkey__in=[n.hotkey for n in validators]).delete()
        storage_allocations_recompute()  # stake changed: the space follows it
    return len(validators)
