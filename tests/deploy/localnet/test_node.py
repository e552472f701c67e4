"""`make node`'s arguments: the role, the next free name, and one-line errors."""

import json
from pathlib import Path

import pytest

from deploy.localnet import node
from deploy.localnet.join import JoinError, node_add, node_remove, role_checked
from deploy.localnet.network import LocalNetwork, NetworkConfig


@pytest.mark.parametrize(("given", "role"), [("miner", "miner"), (" Validator ", "validator")])
def test_the_two_roles_are_accepted(given: str, role: str) -> None:
    assert role_checked(given) == role


@pytest.mark.parametrize("given", ["", "facilitator", "minr"])
def test_any_other_role_is_refused(given: str) -> None:
    with pytest.raises(JoinError, match=f"ROLE must be one of miner, validator, not '{given}'"):
        role_checked(given)


def test_a_bad_role_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCALNET_DIR", str(tmp_path))
    assert node.main(["--role", "facilitator"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["make node: ROLE must be one of miner, validator, not 'facilitator' (e.g. `make node ROLE=miner`)"]


def test_the_role_comes_from_make_when_not_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCALNET_DIR", str(tmp_path))
    monkeypatch.setenv("ROLE", "miner")
    assert node.main([]) == 1  # a valid role, so it goes on to look for the network
    assert "no local network is running" in capsys.readouterr().err


def _network(tmp_path: Path, chain: str = "local") -> LocalNetwork:
    net = LocalNetwork(NetworkConfig(directory=tmp_path, db_prefix="meshwork_t", chain=chain))
    net.nodes = [net._node("facilitator", "facilitator", 18000, 0)] + [
        net._node(f"miner{i}", "miner", 18100 + i, 1000) for i in (1, 2, 3)
    ]
    listed = [{"name": n.name, "role": n.role, "hotkey": n.hotkey.ss58, "url": n.url} for n in net.nodes]
    listed.append({"name": "miner4", "role": "miner", "hotkey": "5x", "url": "http://127.0.0.1:1"})  # joined
    (tmp_path / "credentials.json").write_text(json.dumps({"api_token": "t", "nodes": listed}))
    return net


def test_a_node_takes_the_next_free_name_and_leaves_its_entry(tmp_path: Path) -> None:
    net = _network(tmp_path)
    miner = node_add(net, "miner")
    validator = node_add(net, "validator")
    assert (miner.name, validator.name) == ("miner5", "validator1")
    assert miner.stake == 1000
    assert validator.stake == 10_000
    assert miner.tls_port  # a miner serves TLS with a certificate of its own
    assert (tmp_path / "tls" / "miner5.crt").exists()
    assert validator.tls_port == 0
    assert validator.address == ""
    creds = json.loads((tmp_path / "credentials.json").read_text())
    assert [n["name"] for n in creds["nodes"]][-2:] == ["miner5", "validator1"]
    assert creds["api_token"] == "t"  # the rest of the file is kept
    node_remove(net, miner)
    assert "miner5" not in {n["name"] for n in json.loads((tmp_path / "credentials.json").read_text())["nodes"]}


def test_the_same_name_is_the_same_key_when_it_joins_again(tmp_path: Path) -> None:
    net = _network(tmp_path)
    first = node_add(net, "miner")
    node_remove(net, first)
    again = node_add(_network(tmp_path), "miner")
    assert (again.name, again.hotkey.ss58) == (first.name, first.hotkey.ss58)


def test_a_network_on_subtensor_cannot_be_joined(tmp_path: Path) -> None:
    with pytest.raises(JoinError, match="local chain only"):
        node_add(_network(tmp_path, chain="subtensor"), "miner")
