"""The fuzzing validator: registered with enough stake on the local chain."""

from typing import Any

import pytest
from django.conf import settings

from chain.interface import Role
from chain.local import LocalChain
from protocol.keys import Hotkey, hotkey_create


@pytest.fixture
def validator_key(node_key: Hotkey, executor_classes: dict[str, Any]) -> Hotkey:
    """A validator registered with enough stake on the local chain."""
    hotkey = hotkey_create()[0]
    chain = LocalChain()
    chain.register(hotkey=hotkey.ss58, coldkey=hotkey_create()[0].ss58, role=Role.VALIDATOR)
    chain.add_stake(hotkey=hotkey.ss58, amount=settings.MIN_VALIDATOR_STAKE)
    return hotkey
