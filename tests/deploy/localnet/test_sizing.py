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
    assert env["VALIDATOR_SCORE_TICK_S"] == "30"
    assert (env["VALIDATOR_RECEIPT_PULL_S"], env["VALIDATOR_RECEIPT_INTERVAL_S"]) == ("75", "60")
    short = sizing.verification_env(owner_hotkey="", cycle_s=40)
    assert (short["VALIDATOR_SCORE_TICK_S"], short["VALIDATOR_RECEIPT_PULL_S"]) == ("5", "10")
    assert (env["VALIDATOR_SCORE_GRACE_S"], short["VALIDATOR_SCORE_GRACE_S"]) == ("60", "10")


def test_a_failing_step_says_which_and_why(tmp_path: Any) -> None:
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"}
    with pytest.raises(RuntimeError, match=r"size_class cpu\.nope"):
        sizing.manage_checked(["size_class", "cpu.nope", "--cpus", "1", "--memory-mb", "256"], env)


@pytest.mark.parametrize("cycle_s", [60, 300, 900])
def test_the_local_chain_reveals_every_cycles_weights_inside_the_cycle(cycle_s: int) -> None:
    from chain.local import reveal_window

    env = sizing.local_chain_env(cycle_s=cycle_s)
    assert env["LOCAL_CHAIN_COMMIT_REVEAL"] == "1"
    block_s, tempo = float(env["LOCAL_CHAIN_BLOCK_SECONDS"]), int(env["LOCAL_CHAIN_TEMPO"])
    period = int(env["LOCAL_CHAIN_REVEAL_PERIOD"])
    blocks_per_cycle = cycle_s / block_s
    # One commit per cycle is allowed by the rate limit.
    assert int(env["LOCAL_CHAIN_WEIGHTS_RATE_LIMIT"]) < blocks_per_cycle
    # Worst case: the submission waits one weights tick, the window opens as late as it can, and
    # the reveal task runs one period after it opened, all before the cycle ends.
    tick_s, reveal_task_s = float(env["VALIDATOR_WEIGHTS_TICK_S"]), float(env["CHAIN_BLOCK_SECONDS"])
    for commit_block in range(int(blocks_per_cycle)):
        first, last = reveal_window(netuid=1, tempo=tempo, reveal_period=period, commit_block=commit_block)
        assert (last - first) * block_s > 2 * reveal_task_s  # the reveal task runs inside the window
        assert tick_s + (first - commit_block) * block_s + reveal_task_s < cycle_s
