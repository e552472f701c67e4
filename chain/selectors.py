"""Who the chain says may take part."""

from django.conf import settings

from chain.client import chain_client
from chain.interface import Role


def chain_validator_refusal(hotkey: str) -> str | None:
    """None if `hotkey` is a registered validator with enough stake, else the reason it is not."""
    neuron = chain_client().neuron(hotkey)
    if neuron is None:
        return f"{hotkey} is not registered on subnet {settings.CHAIN_NETUID}"
    if neuron.role != Role.VALIDATOR:
        return f"{hotkey} is registered as a {neuron.role}, not a validator"
    if neuron.stake < settings.MIN_VALIDATOR_STAKE:
        return f"{hotkey} has stake {neuron.stake} < minimum {settings.MIN_VALIDATOR_STAKE}"
    return None
