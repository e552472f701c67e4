"""The executor-class catalogue (docs/catalogue.md): who signs it and how often nodes sync it."""

import re

from django.core.exceptions import ImproperlyConfigured

from config.env import env

# The subnet owner's hotkey (SS58): the only key whose catalogue a node applies. The node whose own
# hotkey this is publishes the catalogue from its class table. Empty: no catalogue is trusted and
# the seeded classes stand (version 0).
SUBNET_OWNER_HOTKEY = env.str("SUBNET_OWNER_HOTKEY", default="")
if SUBNET_OWNER_HOTKEY and not re.fullmatch(r"[1-9A-HJ-NP-Za-km-z]{40,64}", SUBNET_OWNER_HOTKEY):
    raise ImproperlyConfigured(f"SUBNET_OWNER_HOTKEY={SUBNET_OWNER_HOTKEY!r} is not an SS58 address")
# How often every node fetches the catalogue from the DHT and applies a newer one.
CATALOGUE_SYNC_S = env.float("CATALOGUE_SYNC_S", default=60.0)
if CATALOGUE_SYNC_S <= 0:
    raise ImproperlyConfigured("CATALOGUE_SYNC_S must be positive")
# Lifetime of the catalogue record in the DHT; the owner's DHT process re-puts it well before.
CATALOGUE_RECORD_TTL_S = env.float("CATALOGUE_RECORD_TTL_S", default=86_400.0)
