"""`/metrics/`: what the node's processes observed (protocol/metrics.py, summed across processes
with PROMETHEUS_MULTIPROC_DIR) plus figures read at scrape time by the collectors below: jobs per
status, benchmark checks, Celery queue depth, DHT routing-table size and the node's version.

Database figures cover the last METRICS_WINDOW (indexed `created_at` ranges, so a scrape stays
cheap however old the node); each collector that fails is skipped and counted in
`meshwork_scrape_errors`, so one unreachable backend never empties the page."""

import logging
import os
from collections.abc import Callable, Iterator
from datetime import timedelta

import redis
from django.conf import settings
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from config.roles import NodeRole, role_serves
from dht.selectors import dht_routing_table_size
from facilitator.selectors.figures import job_status_counts
from miner.selectors import accepted_job_status_counts
from protocol.identity import node_ss58_or_empty
from protocol.version import NODE_VERSION
from validator.selectors.metrics import benchmark_check_counts, organic_job_status_counts

logger = logging.getLogger(__name__)
METRICS_WINDOW = timedelta(hours=24)
# kombu's Redis transport keeps a queue's messages of priority 0 under its name and the other
# priority steps under name + "\x06\x16" + step.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def _jobs(role: NodeRole) -> Iterator[Metric]:
    since = timezone.now() - METRICS_WINDOW
    family = GaugeMetricFamily(
        "meshwork_jobs",
        "Jobs created in the last 24 h, per status, as this node's database holds them.",
        labels=["role", "status"],
    )
    sources: list[tuple[NodeRole, Callable[..., dict[str, int]]]] = [
        (NodeRole.FACILITATOR, job_status_counts),
        (NodeRole.VALIDATOR, organic_job_status_counts),
        (NodeRole.MINER, accepted_job_status_counts),
    ]
    for source_role, counts in sources:
        if role_serves(role, source_role):
            for status, n in sorted(counts(since=since).items()):
                family.add_metric([source_role.value, status], n)
    yield family


def _benchmarks(role: NodeRole) -> Iterator[Metric]:
    if not role_serves(role, NodeRole.VALIDATOR):
        return
    counts = benchmark_check_counts(since=timezone.now() - METRICS_WINDOW)
    checks = GaugeMetricFamily(
        "meshwork_benchmark_checks", "Benchmark checks run in the last 24 h, by result.", labels=["result"]
    )
    checks.add_metric(["passed"], counts.get(True, 0))
    checks.add_metric(["failed"], counts.get(False, 0))
    yield checks
    total = sum(counts.values())
    if total:
        yield GaugeMetricFamily(
            "meshwork_benchmark_pass_ratio",
            "Share of the last 24 h's benchmark checks that passed.",
            value=counts.get(True, 0) / total,
        )


def _celery_queue(role: NodeRole) -> Iterator[Metric]:
    queue = settings.CELERY_TASK_DEFAULT_QUEUE  # the role's own queue (config/settings/components/celery.py)
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    timeout = settings.READYZ_CHECK_TIMEOUT_S
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        with client.pipeline(transaction=False) as pipe:
            for suffix in _PRIORITY_SUFFIXES:
                pipe.llen(f"{prefix}{queue}{suffix}")
            depth = sum(pipe.execute())
    finally:
        client.close()
    family = GaugeMetricFamily(
        "meshwork_celery_queue_depth", "Tasks waiting in this node's Celery queue.", labels=["queue"]
    )
    family.add_metric([queue], depth)
    yield family


def _dht(role: NodeRole) -> Iterator[Metric]:
    hotkey = node_ss58_or_empty()
    if role == NodeRole.FACILITATOR or not hotkey:  # the facilitator runs no DHT node
        return
    yield GaugeMetricFamily(
        "meshwork_dht_routing_table_peers",
        "Peers in this node's DHT routing table, as its DHT process last saved it (every 60 s).",
        value=dht_routing_table_size(holder=hotkey),
    )


def _node(role: NodeRole) -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "meshwork_node_info", "This node's role and version (always 1).", labels=["role", "version"]
    )
    family.add_metric([role.value, NODE_VERSION], 1)
    yield family


COLLECTORS: dict[str, Callable[[NodeRole], Iterator[Metric]]] = {
    "jobs": _jobs,
    "benchmarks": _benchmarks,
    "celery_queue": _celery_queue,
    "dht": _dht,
    "node": _node,
}


class ScrapeTimeCollector(Collector):
    def __init__(self, role: NodeRole) -> None:
        self.role = role

    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily(
            "meshwork_scrape_errors", "1 for each collector that failed during this scrape.", labels=["collector"]
        )
        for name, collector in COLLECTORS.items():
            try:
                metrics = list(collector(self.role))
            except Exception:
                logger.exception("metrics: collector %s failed", name)
                errors.add_metric([name], 1)
                continue
            yield from metrics
        yield errors


def metrics_page(role: NodeRole) -> bytes:
    """The text exposition: the process metrics (all processes' with a multiprocess directory)
    followed by the scrape-time figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        observed = CollectorRegistry()
        MultiProcessCollector(observed)  # type: ignore[no-untyped-call]  # untyped in prometheus-client
    else:
        observed = REGISTRY
    scraped = CollectorRegistry()
    scraped.register(ScrapeTimeCollector(role))
    return generate_latest(observed) + generate_latest(scraped)
