"""This node's own hotkey, loaded once per process from settings."""

from functools import cache

from django.conf import settings

from protocol.keys import Hotkey, KeyFileError, hotkey_load


@cache
def node_hotkey() -> Hotkey:
    return hotkey_load(settings.HOTKEY_PATH)


def node_ss58_or_empty() -> str:
    """This node's address for log context, or "" before its key exists (the key's own error is
    raised where the key is used, with its message)."""
    try:
        return node_hotkey().ss58
    except KeyFileError:
        return ""
