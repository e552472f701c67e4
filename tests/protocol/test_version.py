"""The node's version (one source: pyproject.toml), the chain's integer form, and the minimum."""

import tomllib
from pathlib import Path

import pytest

from protocol.version import (
    NODE_VERSION,
    min_peer_version,
    version_as_int,
    version_from_int,
    version_parse,
    version_refusal,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_node_version_is_pyprojects():
    with (ROOT / "pyproject.toml").open("rb") as file:
        assert NODE_VERSION == tomllib.load(file)["project"]["version"]


@pytest.mark.parametrize(("text", "key"), [("0.2.0", 200), ("1.2.3", 10203), ("12.0.99", 120099), ("3", 30000)])
def test_versions_round_trip_through_the_chains_integer(text, key):
    assert version_as_int(text) == key
    assert version_parse(version_from_int(key)) == version_parse(text)


def test_a_version_that_does_not_fit_the_integer_is_refused():
    with pytest.raises(ValueError, match="below 100"):
        version_as_int("1.100.0")


def test_an_unreadable_version_names_itself():
    with pytest.raises(ValueError, match="'not-a-version' is not a version"):
        version_parse("not-a-version")


@pytest.mark.parametrize(
    ("peer", "minimum", "refused"),
    [
        ("0.2.0", None, None),
        (None, None, None),
        ("0.2.0", "0.2.0", None),
        ("0.10.0", "0.9.1", None),  # compared as versions, not as text
        ("0.1.9", "0.2.0", "peer runs 0.1.9; this subnet requires >= 0.2.0"),
        ("0.2.0rc1", "0.2.0", "peer runs 0.2.0rc1; this subnet requires >= 0.2.0"),
        (None, "0.2.0", "peer announced no version; this subnet requires >= 0.2.0"),
    ],
)
def test_version_refusal(peer, minimum, refused):
    assert version_refusal(peer_version=peer, minimum=minimum) == refused


def test_a_garbled_peer_version_is_refused_with_the_reason():
    assert version_refusal(peer_version="x!y", minimum="0.1.0") == (
        "peer version unreadable: 'x!y' is not a version (PEP 440, e.g. 0.2.0)"
    )


@pytest.mark.parametrize(
    ("setting", "chain", "minimum"),
    [
        ("", None, None),
        ("0.2.0", None, "0.2.0"),
        ("", "0.3.0", "0.3.0"),
        ("0.4.0", "0.3.0", "0.4.0"),
        ("0.2.0", "0.3.0", "0.3.0"),
    ],
)
def test_the_minimum_is_the_higher_of_setting_and_chain(settings, monkeypatch, setting, chain, minimum):
    settings.MESHWORK_MIN_VERSION = setting
    settings.MESHWORK_MIN_VERSION_PROVIDER = "tests.protocol.test_version.chain_fake"
    monkeypatch.setattr("tests.protocol.test_version.CHAIN_SAYS", chain)
    assert min_peer_version() == minimum


CHAIN_SAYS: str | None = None


def chain_fake() -> str | None:
    """The provider under test: what the chain would say (the real one is chain.selectors')."""
    return CHAIN_SAYS
