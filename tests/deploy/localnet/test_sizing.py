"""Fitting the local network to this machine: the class's share of the cores and memory, the
settings every node shares, and the set-up steps' errors."""

from typing import Any

import pytest

from deploy.localnet import sizing


def test_every_executor_gets_an_equal_share_of_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr(sizing, "memory_mb", lambda: 24 * 1024)
    size = sizing.class_size(executors=6)
    assert size.cpus == pytest.approx(0.333)
    assert size.cpus * 6 <= 2  # the capacity the manifests claim is really there
    assert size.memory_mb == 1024  # capped
    assert "0.333 CPU, 1024 MiB" in size.description


def test_a_small_machine_still_gets_workable_executors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    monkeypatch.setattr(sizing, "memory_mb", lambda: 2048)
    size = sizing.class_size(executors=40)
    assert (size.cpus, size.memory_mb) == (0.05, 256)  # floors
    assert sizing.class_size(executors=0).cpus == 1.0  # never divides by zero


def test_memory_is_read_from_proc() -> None:
    assert sizing.memory_mb() > 0


def test_every_node_shares_the_owner_the_cycle_and_the_shared_engine_exception() -> None:
    env = sizing.verification_env(owner_hotkey="5Owner", cycle_s=300)
    assert env["SUBNET_OWNER_HOTKEY"] == "5Owner"
    assert env["VALIDATOR_CYCLE_S"] == "300"
    assert env["VALIDATOR_CYCLE_TICK_S"] == "30"
    assert env["VALIDATOR_FLAG_SHARED_ENGINES"] == "0"
    assert sizing.verification_env(owner_hotkey="", cycle_s=20)["VALIDATOR_CYCLE_TICK_S"] == "5"


def test_scores_weights_and_receipts_keep_pace_with_a_short_cycle() -> None:
    env = sizing.verification_env(owner_hotkey="", cycle_s=300)
    assert (env["VALIDATOR_SCORE_TICK_S"], env["VALIDATOR_WEIGHTS_TICK_S"]) == ("30", "30")
    assert (env["VALIDATOR_RECEIPT_PULL_S"], env["VALIDATOR_RECEIPT_INTERVAL_S"]) == ("75", "60")
    short = sizing.verification_env(owner_hotkey="", cycle_s=40)
    assert (short["VALIDATOR_SCORE_TICK_S"], short["VALIDATOR_RECEIPT_PULL_S"]) == ("5", "10")


def test_a_failing_step_says_which_and_why(tmp_path: Any) -> None:
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"}
    with pytest.raises(RuntimeError, match=r"size_class cpu\.nope"):
        sizing.manage_checked(["size_class", "cpu.nope", "--cpus", "1", "--memory-mb", "256"], env)
