"""This node's own hotkey, loaded once per process from settings."""

from functools import cache

from django.conf import settings

from protocol.keys import Hotkey, hotkey_load


@cache
def node_hotkey() -> Hotkey:
    return hotkey_load(settings.HOTKEY_PATH)
