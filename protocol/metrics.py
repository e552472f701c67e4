"""Metrics a process observes itself (prometheus-client), served by the node's `/metrics/`.

A node is several processes (daphne, the validator's job loop, Celery, the DHT process). With
PROMETHEUS_MULTIPROC_DIR set (one directory per node, emptied at start), each writes its samples
there and `/metrics/` adds them up (prometheus_client.multiprocess); without it, `/metrics/` serves
only what its own process observed. Figures read from the database or Redis at scrape time are
config/metrics.py's collectors, not these (docs/observability.md)."""

from prometheus_client import Gauge, Histogram

# Stage budgets run from seconds (executor ready) to the job's timeout (finished).
STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600, float("inf"))

JOB_STAGE_SECONDS = Histogram(
    "meshwork_job_stage_seconds",
    "Time a job spent reaching each stage, as the process that saw the stage end measured it.",
    ["role", "stage"],
    buckets=STAGE_BUCKETS,
)
PEER_SESSIONS = Gauge(
    "meshwork_peer_sessions",
    "Authenticated websocket sessions this node's consumers hold, per endpoint path.",
    ["path"],
    multiprocess_mode="livesum",
)
