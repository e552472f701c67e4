"""Who killed a job container? A container that died by a signal (exit 128 + N) may have been killed
by the job itself (or exited with that code on purpose), by the kernel's OOM killer (`State.OOMKilled`:
the job's fault), or from outside through the engine (`docker kill`, an operator or a sweeper): only
the last is the infrastructure's fault, and only the engine's own event log can tell it apart, since
nothing inside a container without network or socket can make the engine emit a `kill` event."""

import time

import docker


def engine_kill_signals(api: docker.APIClient, container: str, *, since: float) -> list[str]:
    """The signals of the engine's `kill` events for `container` between `since` and now. The engine
    keeps its recent events in memory, so this is asked right after the container exits."""
    events = api.events(
        since=f"{since:.6f}",
        until=f"{time.time():.6f}",  # a bounded query: it returns instead of streaming new events
        filters={"container": container, "event": "kill"},
        decode=True,
    )
    return [str(event.get("Actor", {}).get("Attributes", {}).get("signal", "")) for event in events]
