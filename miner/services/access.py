"""Which validators this miner serves: chain registration and stake, then the admin's lists."""

from django.conf import settings
from django.db import transaction

from chain.interface import Role
from chain.selectors import chain_neurons
from miner.models import AccessRule, KnownValidator


def validators_sync_from_chain() -> int:
    validators = [n for n in chain_neurons() if n.role == Role.VALIDATOR]
    with transaction.atomic():
        for n in validators:
            KnownValidator.objects.update_or_create(hotkey=n.hotkey, defaults={"coldkey": n.coldkey, "stake": n.stake})
        KnownValidator.objects.exclude(hotkey__in=[n.hotkey for n in validators]).delete()
    return len(validators)


def validator_refusal(hotkey: str) -> str | None:
    """None to admit `hotkey`, else why it is refused."""
    known = KnownValidator.objects.filter(hotkey=hotkey).first()
    if known is None:
        return f"{hotkey} is not a validator registered on subnet {settings.CHAIN_NETUID}"
    if known.stake < settings.MIN_VALIDATOR_STAKE:
        return f"{hotkey} has stake {known.stake} < minimum {settings.MIN_VALIDATOR_STAKE}"
    return _list_refusal(AccessRule.Kind.HOTKEY, hotkey) or _list_refusal(AccessRule.Kind.COLDKEY, known.coldkey)


def _list_refusal(kind: str, key: str) -> str | None:
    rules = AccessRule.objects.filter(kind=kind)
    if rules.filter(list=AccessRule.List.BLACKLIST, key=key).exists():
        return f"{kind} {key} is blacklisted"
    whitelist = rules.filter(list=AccessRule.List.WHITELIST)
    if whitelist.exists() and not whitelist.filter(key=key).exists():
        return f"{kind} {key} is not on the whitelist"
    return None
