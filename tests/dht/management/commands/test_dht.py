"""`manage.py dht`: a mistake in the arguments or a missing or broken hotkey file is one clear
line and a non-zero exit, never a traceback, and nothing starts; good arguments become the run
options (defaults from settings), with the node's hotkey and role bound to the process's logs."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from structlog.contextvars import get_contextvars

from chain.interface import Role
from config.roles import NodeRole
from dht.management.commands import dht as dht_command
from dht.runner import RunOptions
from protocol.identity import node_hotkey
from protocol.keys import Hotkey

ROOT = Path(__file__).resolve().parents[4]


class FakeRun:
    """Stands in for `dht_run` (the DHT process itself, tested in tests/dht/test_runner.py)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Hotkey, RunOptions, dict[str, Any]]] = []

    async def __call__(self, *, hotkey: Hotkey, options: RunOptions, stop: asyncio.Event) -> None:
        self.calls.append((hotkey, options, dict(get_contextvars())))


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> FakeRun:
    fake = FakeRun()
    monkeypatch.setattr(dht_command, "dht_run", fake)
    return fake


@pytest.fixture
def no_hotkey(settings: Any, tmp_path: Path) -> Path:
    """This node's hotkey file is missing."""
    settings.HOTKEY_PATH = tmp_path / "absent.json"
    node_hotkey.cache_clear()
    return settings.HOTKEY_PATH


def manage_dht(*args: str, hotkey_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "MESHWORK_HOTKEY_PATH": str(hotkey_path)}
    return subprocess.run(
        [sys.executable, "manage.py", "dht", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "MESHWORK_ROLE is all: pass --role validator|miner, or --bootnode"),
        (("--role", "miner", "--address", "nope"), "--address: 'nope' is not host:port"),
        (("--role", "miner", "--address", "10.0.0.1:70000"), "--address: '10.0.0.1:70000' is not host:port"),
        (("--role", "miner", "--address", ":8001"), "--address: ':8001' is not host:port"),
        (("--bootnode", "--address", "10.0.0.1:8001", "--address", "host:"), "--address: 'host:' is not host:port"),
    ],
)
def test_bad_arguments_are_a_command_error_and_nothing_runs(
    fake_run: FakeRun, node_key: Hotkey, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("dht", *args)
    assert str(refused.value) == message
    assert fake_run.calls == []


def test_a_missing_hotkey_file_is_a_command_error(fake_run: FakeRun, no_hotkey: Path) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("dht", "--role", "miner")
    assert str(refused.value) == f"no hotkey at {no_hotkey}: run `python manage.py keygen`"
    assert fake_run.calls == []


def test_arguments_are_checked_before_the_hotkey(fake_run: FakeRun, no_hotkey: Path) -> None:
    with pytest.raises(CommandError, match=r"^--address: "):
        call_command("dht", "--role", "miner", "--address", "bad")


@pytest.mark.parametrize(
    ("args", "code", "line"),
    [
        (("--role", "miner"), 1, "CommandError: no hotkey at {path}: run `python manage.py keygen`"),
        ((), 1, "CommandError: MESHWORK_ROLE is all: pass --role validator|miner, or --bootnode"),
        (("--role", "miner", "--address", "nope"), 1, "CommandError: --address: 'nope' is not host:port"),
        (
            ("--role", "boss"),
            2,
            "manage.py dht: error: argument --role: invalid choice: 'boss' (choose from 'validator', 'miner')",
        ),
        (("--bootnode", "--port", "x"), 2, "manage.py dht: error: argument --port: invalid int value: 'x'"),
    ],
)
def test_from_the_shell_a_mistake_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, args: tuple[str, ...], code: int, line: str
) -> None:
    path = tmp_path / "absent.json"
    done = manage_dht(*args, hotkey_path=path)
    assert done.returncode == code
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    if code == 1:  # a CommandError: the line alone
        assert done.stderr.splitlines() == [line.format(path=path)]
    else:  # argparse: the usage, then the line
        assert done.stderr.splitlines()[-1] == line
        assert done.stderr.startswith("usage: manage.py dht ")


def test_from_the_shell_a_corrupt_hotkey_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "hotkey.json"
    path.write_text("{not json")
    done = manage_dht("--bootnode", hotkey_path=path)
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"CommandError: {path} is not a Meshwork hotkey file: ")


def test_a_bootnode_runs_on_the_bootnode_port_with_no_role(fake_run: FakeRun, node_key: Hotkey, settings: Any) -> None:
    settings.DHT_HOST, settings.DHT_BOOTNODE_PORT, settings.DHT_PORT = "127.0.0.9", 7490, 7491
    call_command("dht", "--bootnode")
    [(hotkey, options, logged)] = fake_run.calls
    assert hotkey.ss58 == node_key.ss58
    assert options == RunOptions(host="127.0.0.9", port=7490, role=None, addresses=[], bootnode=True)
    assert logged == {"hotkey": node_key.ss58, "role": "bootnode-dht"}


def test_a_role_node_takes_its_options_and_the_dht_port(fake_run: FakeRun, node_key: Hotkey, settings: Any) -> None:
    settings.DHT_HOST, settings.DHT_PORT = "127.0.0.9", 7491
    call_command("dht", "--role", "validator", "--address", "10.0.0.1:8001", "--address", "[::1]:8002")
    [(_, options, logged)] = fake_run.calls
    assert options == RunOptions(
        host="127.0.0.9", port=7491, role=Role.VALIDATOR, addresses=["10.0.0.1:8001", "[::1]:8002"], bootnode=False
    )
    assert logged == {"hotkey": node_key.ss58, "role": "validator-dht"}
    assert get_contextvars() == {}  # unbound once the run is over


def test_explicit_host_and_port_win_and_port_zero_is_kept(fake_run: FakeRun, node_key: Hotkey) -> None:
    call_command("dht", "--role", "miner", "--host", "0.0.0.0", "--port", "0")
    [(_, options, _)] = fake_run.calls
    assert (options.host, options.port, options.role) == ("0.0.0.0", 0, Role.MINER)


def test_without_role_a_node_takes_its_role_from_meshwork_role(
    fake_run: FakeRun, node_key: Hotkey, settings: Any
) -> None:
    settings.MESHWORK_ROLE = NodeRole.MINER
    call_command("dht")
    [(_, options, logged)] = fake_run.calls
    assert (options.role, options.bootnode) == (Role.MINER, False)
    assert logged == {"hotkey": node_key.ss58, "role": "miner-dht"}
