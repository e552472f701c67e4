from collections.abc import Callable

import pytest

from protocol.keys import Hotkey


@pytest.fixture
def dialer(make_hotkey: Callable[..., Hotkey]) -> Hotkey:
    """The node that opens the connection (the other end is `node_key`)."""
    return make_hotkey()
