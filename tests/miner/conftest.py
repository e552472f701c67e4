"""The miner's own concepts: the stake it asks of validators, and a validator it admits."""

from typing import Any

import pytest

from protocol.keys import Hotkey, hotkey_create
from tests.miner.factories import KnownValidatorFactory

MIN_VALIDATOR_STAKE = 1000


@pytest.fixture
def min_validator_stake(settings: Any) -> int:
    """The stake this miner asks of a validator (apply with `pytest.mark.usefixtures`)."""
    settings.MIN_VALIDATOR_STAKE = MIN_VALIDATOR_STAKE
    return MIN_VALIDATOR_STAKE


@pytest.fixture
def admitted_validator_key(min_validator_stake: int) -> Hotkey:
    """A validator keypair this miner admits: registered (as last synced) with enough stake."""
    hotkey = hotkey_create()[0]
    KnownValidatorFactory.create(hotkey=hotkey.ss58, stake=min_validator_stake)
    return hotkey
