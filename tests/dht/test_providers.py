"""Providers default by MESHWORK_ROLE (a validator commits scores, a miner announces its
manifest, nobody else publishes either) and are loaded from their dotted paths."""

import importlib

import pytest
from django.utils.module_loading import import_string

import config.settings.components.dht as dht_settings
import config.settings.components.node as node_settings
from dht.policy.values import manifest_digest
from dht.providers import manifest_provider_from_settings, scores_provider_from_settings


@pytest.fixture
def settings_for_role(monkeypatch):
    def _load(role: str | None):
        monkeypatch.delenv("DHT_MANIFEST_PROVIDER", raising=False)
        monkeypatch.delenv("DHT_SCORES_PROVIDER", raising=False)
        if role is None:
            monkeypatch.delenv("MESHWORK_ROLE", raising=False)
        else:
            monkeypatch.setenv("MESHWORK_ROLE", role)
        importlib.reload(node_settings)  # the role is read once, there
        return importlib.reload(dht_settings)

    yield _load
    monkeypatch.undo()
    importlib.reload(node_settings)
    importlib.reload(dht_settings)


@pytest.mark.parametrize(
    ("role", "manifest", "scores"),
    [
        ("validator", "", "validator.services.scores.cycle_scores"),
        ("miner", "miner.services.manifest.manifest_for_heartbeat", ""),
        ("facilitator", "", ""),
        ("all", "", ""),
        (None, "", ""),
    ],
)
def test_defaults_follow_the_role(settings_for_role, role, manifest, scores):
    loaded = settings_for_role(role)
    assert (loaded.DHT_MANIFEST_PROVIDER, loaded.DHT_SCORES_PROVIDER) == (manifest, scores)


def test_an_explicit_setting_wins(settings_for_role, monkeypatch):
    monkeypatch.setenv("MESHWORK_ROLE", "validator")
    monkeypatch.setenv("DHT_SCORES_PROVIDER", "")
    importlib.reload(node_settings)
    assert importlib.reload(dht_settings).DHT_SCORES_PROVIDER == ""


def test_default_paths_name_real_providers():
    assert callable(import_string("validator.services.scores.cycle_scores"))
    assert callable(import_string("miner.services.manifest.manifest_for_heartbeat"))


def test_providers_load_from_settings(settings):
    settings.DHT_MANIFEST_PROVIDER = "tests.dht.test_providers.fake_manifest"
    settings.DHT_SCORES_PROVIDER = "tests.dht.test_providers.fake_scores"
    assert manifest_provider_from_settings()() == manifest_digest(fake_manifest())
    assert scores_provider_from_settings()(3) == {"5Miner": 3.0}
    settings.DHT_MANIFEST_PROVIDER = settings.DHT_SCORES_PROVIDER = ""
    assert manifest_provider_from_settings()() == ""
    assert scores_provider_from_settings()(3) is None


def fake_manifest() -> dict[str, int]:
    return {"cpu.small": 2}


def fake_scores(epoch: int) -> dict[str, float]:
    return {"5Miner": float(epoch)}


@pytest.mark.parametrize(("role", "required"), [("validator", True), ("miner", False), ("all", False)])
def test_a_validator_routes_only_to_miners_with_a_heartbeat_by_default(settings_for_role, role, required):
    """A validator runs its DHT process like the localnet's, so by default it routes as they do."""
    assert settings_for_role(role).DHT_ROUTE_REQUIRE_HEARTBEAT is required
