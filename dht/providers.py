"""What a role app tells its DHT process, as dotted paths in settings loaded here with
import_string (so dht/ never imports the role apps): the miner's executor-class manifest
(DHT_MANIFEST_PROVIDER) and the validator's scores per epoch (DHT_SCORES_PROVIDER). Both default
by MESHWORK_ROLE in config/settings/components/dht.py; empty means "nothing to publish"."""

from collections.abc import Callable

from django.conf import settings
from django.utils.module_loading import import_string

from dht.policy.values import manifest_digest

ScoresProvider = Callable[[int], dict[str, float] | None]


def manifest_provider_from_settings() -> Callable[[], str]:
    """DHT_MANIFEST_PROVIDER names a callable returning the executor-class manifest (or digest)."""
    path = settings.DHT_MANIFEST_PROVIDER
    if not path:
        return lambda: ""
    provider = import_string(path)
    return lambda: manifest_digest(provider())


def scores_provider_from_settings() -> ScoresProvider:
    """DHT_SCORES_PROVIDER names a callable (epoch) -> {miner hotkey: score} or None."""
    path = settings.DHT_SCORES_PROVIDER
    return import_string(path) if path else (lambda epoch: None)
