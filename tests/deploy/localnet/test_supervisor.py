"""The supervisor on real child processes, with its clock in the test's hands."""

import sys
import time
from pathlib import Path

import pytest

from deploy.localnet.processes import Proc
from deploy.localnet.supervisor import Backoff, Supervisor, SupervisorThread


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def proc(tmp_path: Path, name: str, code: str) -> Proc:
    return Proc(name, [sys.executable, "-c", code], {}, tmp_path / f"{name}.log")


def wait_dead(p: Proc) -> None:
    assert p.popen is not None
    p.popen.wait(timeout=10)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_dead_process_is_reported_with_its_last_lines_and_restarted_after_its_backoff(tmp_path, clock):
    crasher = proc(
        tmp_path, "miner-1", "print('binding port'); print('boom: out of luck', flush=True); raise SystemExit(3)"
    )
    steady = proc(tmp_path, "validator-1", "import time; time.sleep(60)")
    lines: list[str] = []
    sup = Supervisor(
        [crasher, steady], backoff=Backoff(initial_s=2, max_s=30, stable_s=60), report=lines.append, clock=clock
    )
    for p in (crasher, steady):
        p.start()
    try:
        steady_pid = steady.popen.pid if steady.popen else None
        wait_dead(crasher)
        sup.poll()
        [death] = sup.deaths
        assert (death.name, death.returncode, death.restart_in_s) == ("miner-1", 3, 2)
        assert "boom: out of luck" in death.tail
        assert "boom: out of luck" in lines[0]
        clock.now += 1.9
        sup.poll()
        assert not crasher.alive
        assert sup.restarts == 0
        clock.now += 0.2
        sup.poll()
        assert sup.restarts == 1
        assert "miner-1 restarted" in lines[-1]
        assert steady.alive
        assert steady.popen is not None
        assert steady.popen.pid == steady_pid
    finally:
        for p in (crasher, steady):
            p.kill()


def test_deaths_in_a_row_double_the_backoff_up_to_its_cap_and_a_stable_run_starts_it_over(tmp_path, clock):
    crasher = proc(tmp_path, "dht", "raise SystemExit(1)")
    sup = Supervisor([crasher], backoff=Backoff(initial_s=1, max_s=5, stable_s=60), report=lambda _: None, clock=clock)
    crasher.start()
    delays = []
    for _ in range(5):
        wait_dead(crasher)
        sup.poll()
        delays.append(sup.deaths[-1].restart_in_s)
        clock.now += delays[-1]
        sup.poll()  # restarts it
    assert delays == [1, 2, 4, 5, 5]
    wait_dead(crasher)
    clock.now += 61  # this run "lasted" past stable_s
    sup.poll()
    assert sup.deaths[-1].restart_in_s == 1
    crasher.kill()


def test_a_process_that_cannot_be_started_is_reported_and_retried_with_a_growing_backoff(tmp_path, clock):
    missing = Proc("celery", [str(tmp_path / "no-such-program")], {}, tmp_path / "celery.log")
    lines: list[str] = []
    sup = Supervisor([missing], backoff=Backoff(initial_s=1, max_s=30), report=lines.append, clock=clock)
    sup.poll()  # never started: dead
    for _ in range(3):
        clock.now += 100
        sup.poll()  # the start fails
        sup.poll()  # and counts as a death
    assert any("could not be started" in line for line in lines)
    assert [d.restart_in_s for d in sup.deaths] == [1, 2, 4, 8]  # a failed start is no stable run


def test_the_thread_restarts_a_killed_process_by_itself_and_stop_ends_the_restarts(tmp_path):
    node = proc(tmp_path, "facilitator", "import time; time.sleep(60)")
    node.start()
    thread = SupervisorThread(
        Supervisor([node], backoff=Backoff(initial_s=0.1), report=lambda _: None), interval_s=0.05
    )
    thread.start()
    try:
        first = node.popen.pid if node.popen else None
        node.kill()
        deadline = time.monotonic() + 10
        while not (node.alive and node.popen is not None and node.popen.pid != first) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert node.alive
        assert node.popen is not None
        assert node.popen.pid != first
        thread.stop()
        node.kill()
        time.sleep(0.5)
        assert not node.alive  # stopped supervising: Ctrl-C's stop is not undone
    finally:
        thread.stop()
        node.kill()
