"""The URL-input settings: lists of networks read from the environment, failing loudly when bad."""

import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings.components.inputs import INPUT_URL_ALLOWED_NETWORKS, env_networks


def test_addresses_and_cidrs_are_read_as_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_NETWORKS", "203.0.114.9,10.1.0.0/16,2001:db8::1")
    assert env_networks("TEST_NETWORKS") == (
        ipaddress.ip_network("203.0.114.9/32"),
        ipaddress.ip_network("10.1.0.0/16"),
        ipaddress.ip_network("2001:db8::1/128"),
    )


def test_a_bad_entry_stops_the_node_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_NETWORKS", "10.0.0.0/8,localhost")
    with pytest.raises(ImproperlyConfigured, match="TEST_NETWORKS"):
        env_networks("TEST_NETWORKS")


def test_nothing_is_allowed_by_default() -> None:
    assert INPUT_URL_ALLOWED_NETWORKS == ()
