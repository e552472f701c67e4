import pytest


@pytest.fixture
def owner(settings, node_key, executor_classes):
    """This node is the subnet owner: its class table is the catalogue's source."""
    settings.SUBNET_OWNER_HOTKEY = node_key.ss58
    return node_key
