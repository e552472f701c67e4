"""`manage.py chain` (chain/management/commands/chain.py) on the local chain."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from chain.hypertensor.chain import HypertensorChain
from chain.interface import Neuron, Role
from chain.local import LocalChain
from chain.management.commands.chain import _check_coldkey
from chain.substrate.subtensor import SubtensorChain
from protocol.keys import hotkey_create

pytestmark = pytest.mark.django_db


def _ss58() -> str:
    return hotkey_create()[0].ss58


def _run(*args: str) -> str:
    out = StringIO()
    call_command("chain", *args, stdout=out)
    return out.getvalue()


def test_command_register_serve_stake_list(local_chain):
    hotkey, cold = _ss58(), _ss58()
    assert _run("register", "--hotkey", hotkey, "--coldkey", cold, "--role", "validator") == (
        f"registered {hotkey} as validator uid 0\n"
    )
    assert _run("serve", "--hotkey", hotkey, "--address", "127.0.0.1:9000") == f"{hotkey} serves on 127.0.0.1:9000\n"
    assert _run("stake", "--hotkey", hotkey, "--amount", "1500") == f"added 1500 stake to {hotkey}\n"
    assert local_chain.neuron(hotkey) == Neuron(
        uid=0, hotkey=hotkey, coldkey=cold, stake=1500, role=Role.VALIDATOR, address="127.0.0.1:9000"
    )
    listing = _run("list").splitlines()
    assert listing[0].endswith(", 1 nodes")
    assert listing[0].startswith("block ")
    assert listing[1].split() == ["0", "validator", hotkey, "stake=1500", "address=127.0.0.1:9000"]


def test_command_uses_the_node_hotkey_by_default(local_chain, node_key):
    _run("register", "--coldkey", _ss58(), "--role", "miner")
    assert local_chain.neuron(node_key.ss58).role == Role.MINER


def test_command_without_a_hotkey_file_says_how_to_make_one(local_chain, settings, tmp_path):
    from protocol.identity import node_hotkey

    settings.HOTKEY_PATH = tmp_path / "missing.json"
    node_hotkey.cache_clear()
    try:
        with pytest.raises(CommandError, match="keygen"):
            _run("register", "--coldkey", _ss58(), "--role", "miner")
    finally:
        node_hotkey.cache_clear()


@pytest.mark.parametrize("coldkey", ["alice", "0x1234", "5" * 48, ""])
def test_command_refuses_a_bad_coldkey(local_chain, coldkey):
    hotkey = _ss58()
    with pytest.raises(CommandError, match=r"--coldkey: .* is not an SS58 address"):
        _run("register", "--hotkey", hotkey, "--coldkey", coldkey, "--role", "miner")
    assert local_chain.neurons() == []


def test_coldkey_check_follows_the_chain_backend():
    evm = "0x" + "ab" * 20
    for local_chain in (LocalChain(), SubtensorChain(endpoint="ws://127.0.0.1:1")):
        with pytest.raises(CommandError, match="is not an SS58 address"):
            _check_coldkey(local_chain, evm)  # LocalChain and subtensor: SS58 only
    hypertensor = HypertensorChain(endpoint="ws://127.0.0.1:1")
    _check_coldkey(hypertensor, evm)  # Hypertensor accounts are 20-byte 0x addresses
    _check_coldkey(hypertensor, _ss58())
    with pytest.raises(CommandError, match="is not an SS58 or 0x address"):
        _check_coldkey(hypertensor, "0x1234")


def test_command_refuses_a_bad_hotkey(local_chain):
    with pytest.raises(CommandError, match=r"--hotkey: 'bob' is not an SS58 address"):
        _run("register", "--hotkey", "bob", "--coldkey", _ss58(), "--role", "miner")


@pytest.mark.parametrize("address", ["localhost", "localhost:", ":8000", "host:0", "host:65536", "host:http", "h:-1"])
def test_command_refuses_a_bad_address(local_chain, address):
    hotkey = _ss58()
    local_chain.register(hotkey=hotkey, coldkey=_ss58(), role=Role.MINER)
    with pytest.raises(CommandError, match=r"--address: .* is not host:port"):
        _run("serve", "--hotkey", hotkey, "--address", address)
    assert local_chain.neuron(hotkey).address is None


def test_command_reports_chain_refusals_by_name(local_chain):
    hotkey = _ss58()
    with pytest.raises(CommandError, match="chain refused: HotKeyNotRegistered"):
        _run("stake", "--hotkey", hotkey, "--amount", "5")
    local_chain.register(hotkey=hotkey, coldkey=_ss58(), role=Role.MINER)
    with pytest.raises(CommandError, match="chain refused: HotKeyAlreadyRegistered"):
        _run("register", "--hotkey", hotkey, "--coldkey", _ss58(), "--role", "miner")
    with pytest.raises(CommandError, match="chain refused: AmountTooLow"):
        _run("stake", "--hotkey", hotkey, "--amount", "0")


def test_command_weights_go_through_the_weights_service(local_chain, node_key):
    from chain.models import LocalWeights

    local_chain.register(hotkey=node_key.ss58, coldkey=_ss58(), role=Role.VALIDATOR)
    miner, other = _ss58(), _ss58()
    for hotkey in (miner, other):
        local_chain.register(hotkey=hotkey, coldkey=_ss58(), role=Role.MINER)
    # Weights go by uid, as on subtensor: a hotkey not on the subnet gets none.
    assert _run("weights", "--set", f"{miner}=3", "--set", f"{other}=1", "--set", f"{_ss58()}=5") == (
        f"weights sent for {node_key.ss58}\n"
    )
    stored = LocalWeights.objects.get(validator_hotkey=node_key.ss58).weights
    assert stored == pytest.approx({miner: 0.75, other: 0.25}, abs=1e-4)
    assert _run("weights", "--reveal") == "revealed 0 commit(s)\n"  # no commit-reveal on the local chain
    with pytest.raises(CommandError, match="expected HOTKEY=WEIGHT"):
        _run("weights", "--set", "5Miner")
