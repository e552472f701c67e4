"""Keeps a local network's processes running: a process that dies is reported with its last log
lines and started again after a backoff, while every other process keeps serving.

The backoff doubles with each death in a row (1 s, 2 s, 4 s, ... up to `max_s`) and starts over once
a process has stayed up for `stable_s`, so a node killed once comes back at once and a node that
crashes at start-up does not spin."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from deploy.localnet.processes import Proc


@dataclass(frozen=True)
class Backoff:
    initial_s: float = 1.0
    max_s: float = 30.0
    stable_s: float = 60.0  # up this long: the next death counts as the first

    def delay(self, deaths_in_a_row: int) -> float:
        return float(min(self.max_s, self.initial_s * 2 ** max(0, deaths_in_a_row - 1)))


@dataclass(frozen=True)
class Death:
    name: str
    returncode: int | None
    uptime_s: float
    restart_in_s: float
    tail: str

    def describe(self) -> str:
        return (
            f"{self.name} exited ({self.returncode}) after {self.uptime_s:.0f}s; "
            f"restarting in {self.restart_in_s:.0f}s. Its last lines:\n{self.tail}"
        )


@dataclass
class _Watch:
    started_at: float
    deaths_in_a_row: int = 0
    restart_at: float | None = None  # set while dead, waiting for its backoff


@dataclass
class Supervisor:
    procs: list[Proc]
    backoff: Backoff = field(default_factory=Backoff)
    report: Callable[[str], None] = print
    clock: Callable[[], float] = time.monotonic
    tail_lines: int = 20
    deaths: list[Death] = field(default_factory=list)
    restarts: int = 0
    _watches: dict[int, _Watch] = field(default_factory=dict, repr=False)

    def poll(self) -> None:
        """One pass: notice deaths, schedule their restarts, start those whose backoff is over."""
        now = self.clock()
        for proc in self.procs:
            watch = self._watches.setdefault(id(proc), _Watch(started_at=now))
            if watch.restart_at is not None:
                if now >= watch.restart_at:
                    self._restart(proc, watch, now)
            elif not proc.alive:
                self._died(proc, watch, now)

    def _died(self, proc: Proc, watch: _Watch, now: float) -> None:
        uptime = now - watch.started_at
        watch.deaths_in_a_row = 1 if uptime >= self.backoff.stable_s else watch.deaths_in_a_row + 1
        delay = self.backoff.delay(watch.deaths_in_a_row)
        watch.restart_at = now + delay
        returncode = proc.popen.returncode if proc.popen is not None else None
        death = Death(proc.name, returncode, uptime, delay, proc.tail(self.tail_lines))
        self.deaths.append(death)
        self.report(death.describe())

    def _restart(self, proc: Proc, watch: _Watch, now: float) -> None:
        watch.restart_at = None
        watch.started_at = now
        try:
            proc.start()
        except OSError as exc:  # counts as a death at start: the backoff grows
            self.report(f"{proc.name} could not be started: {exc}")
            return
        self.restarts += 1
        self.report(f"{proc.name} restarted (pid {proc.popen.pid if proc.popen else '?'})")


class SupervisorThread:
    """Runs a Supervisor's passes in the background until stopped (test networks, `make localnet`)."""

    def __init__(self, supervisor: Supervisor, interval_s: float = 0.5) -> None:
        self.supervisor = supervisor
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._lock = threading.Lock()  # held during a pass, so stop() never races a restart
        self._thread = threading.Thread(target=self._run, name="localnet-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            pass
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            with self._lock:
                if self._stop.is_set():
                    return
                self.supervisor.poll()
