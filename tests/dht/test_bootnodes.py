"""Where a node joins: host:port parsing, and bootnodes derived from the chain's served addresses."""

import pytest

from chain.interface import Role
from chain.local import LocalChain
from dht.bootnodes import chain_bootnodes, parse_hostport

pytestmark = pytest.mark.django_db


def _register(hotkey: str, role: Role, stake: int, address: str) -> None:
    chain = LocalChain()
    chain.register(hotkey=hotkey, coldkey=hotkey, role=role)
    chain.add_stake(hotkey=hotkey, amount=stake)
    chain.serve(hotkey=hotkey, address=address)


def test_chain_bootnodes_follow_served_addresses(make_hotkey):
    validator = make_hotkey()
    _register(validator.ss58, Role.VALIDATOR, 5000, address="127.0.0.1:8000")
    assert chain_bootnodes(LocalChain(), port_offset=0) == []
    assert chain_bootnodes(LocalChain(), port_offset=1000) == ["127.0.0.1:9000"]
    assert parse_hostport("[::1]:7400") == ("::1", 7400)
    with pytest.raises(ValueError, match="host:port"):
        parse_hostport("nope")


def test_unusable_served_addresses_are_skipped_and_logged(make_hotkey, caplog):
    good, bad = make_hotkey(), make_hotkey()
    _register(good.ss58, Role.MINER, 1, address="127.0.0.1:8001")
    _register(bad.ss58, Role.MINER, 1, address="no-port-here")
    _register(make_hotkey().ss58, Role.MINER, 1, address="127.0.0.1:65000")  # past the last port
    assert chain_bootnodes(LocalChain(), port_offset=1000) == ["127.0.0.1:9001"]
    assert [r.getMessage() for r in caplog.records if r.name == "dht.bootnodes"] == [
        f"dht: {bad.ss58} announces an unusable address on chain: 'no-port-here' is not host:port"
    ]


@pytest.mark.parametrize("text", ["host:", ":80", "host:0", "host:65536", "host:x"])
def test_bad_hostports_are_refused(text):
    with pytest.raises(ValueError, match="host:port"):
        parse_hostport(text)
