"""`/metrics/`: process metrics (summed across a node's processes with PROMETHEUS_MULTIPROC_DIR)
and figures read at scrape time from the node's database and Redis."""

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.utils import timezone
from prometheus_client import multiprocess
from prometheus_client.parser import text_string_to_metric_families

from config.metrics import metrics_page
from config.roles import NodeRole
from dht.models import KnownPeer
from protocol.version import NODE_VERSION
from tests.facilitator.factories import JobFactory
from tests.miner.factories import AcceptedJobFactory
from tests.validator.factories import BenchmarkCheckFactory, OrganicJobFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _samples(page: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(page.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.fixture
def broker(settings):
    """This test's own Celery key prefix in the shared Redis."""
    prefix = f"meshwork-test:metrics:{uuid.uuid4().hex}:celery:"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": prefix}
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    yield client, prefix
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def test_the_page_is_served_as_prometheus_text(client, broker):
    response = client.get("/metrics/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = _samples(response.content)
    assert samples[("meshwork_node_info", (("role", "all"), ("version", NODE_VERSION)))] == 1


def test_jobs_per_status_of_every_role_and_only_recent_ones(broker):
    JobFactory.create_batch(2, status="running")
    JobFactory.create(status="completed")
    old = JobFactory.create(status="failed")
    type(old).objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    OrganicJobFactory.create(status="running")
    AcceptedJobFactory.create(status="reserved")
    samples = _samples(metrics_page(NodeRole.ALL))
    assert samples[("meshwork_jobs", (("role", "facilitator"), ("status", "running")))] == 2
    assert samples[("meshwork_jobs", (("role", "facilitator"), ("status", "completed")))] == 1
    assert ("meshwork_jobs", (("role", "facilitator"), ("status", "failed"))) not in samples  # 2 days old
    assert samples[("meshwork_jobs", (("role", "validator"), ("status", "running")))] == 1
    assert samples[("meshwork_jobs", (("role", "miner"), ("status", "reserved")))] == 1


def test_a_miner_reports_only_its_own_jobs(broker):
    JobFactory.create(status="running")
    AcceptedJobFactory.create(status="reserved")
    roles = {labels[0][1] for name, labels in _samples(metrics_page(NodeRole.MINER)) if name == "meshwork_jobs"}
    assert roles == {"miner"}


def test_benchmark_pass_rate(broker):
    BenchmarkCheckFactory.create_batch(3, passed=True)
    BenchmarkCheckFactory.create(passed=False)
    samples = _samples(metrics_page(NodeRole.VALIDATOR))
    assert samples[("meshwork_benchmark_checks", (("result", "passed"),))] == 3
    assert samples[("meshwork_benchmark_checks", (("result", "failed"),))] == 1
    assert samples[("meshwork_benchmark_pass_ratio", ())] == 0.75
    assert ("meshwork_benchmark_checks", (("result", "passed"),)) not in _samples(metrics_page(NodeRole.MINER))


def test_celery_queue_depth_is_the_role_queues_length(broker, settings):
    client, prefix = broker
    settings.CELERY_TASK_DEFAULT_QUEUE = "miner"
    client.rpush(f"{prefix}miner", "a", "b")
    client.rpush(f"{prefix}miner\x06\x163", "c")  # a priority step of the same queue
    client.rpush(f"{prefix}validator", "not ours")
    samples = _samples(metrics_page(NodeRole.MINER))
    assert samples[("meshwork_celery_queue_depth", (("queue", "miner"),))] == 3


def test_dht_routing_table_size_from_the_dht_processs_snapshot(broker, node_key):
    now = timezone.now()
    for i in range(3):
        KnownPeer.objects.create(
            holder=node_key.ss58, hotkey=f"5Peer{i}", host="127.0.0.1", port=9000 + i, last_seen_at=now
        )
    KnownPeer.objects.create(holder="5SomeoneElse", hotkey="5Peer9", host="127.0.0.1", port=9009, last_seen_at=now)
    samples = _samples(metrics_page(NodeRole.MINER))
    assert samples[("meshwork_dht_routing_table_peers", ())] == 3
    assert ("meshwork_dht_routing_table_peers", ()) not in _samples(metrics_page(NodeRole.FACILITATOR))


def test_an_unreachable_redis_drops_only_its_figure(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    JobFactory.create(status="running")
    samples = _samples(metrics_page(NodeRole.FACILITATOR))
    assert samples[("meshwork_scrape_errors", (("collector", "celery_queue"),))] == 1
    assert samples[("meshwork_jobs", (("role", "facilitator"), ("status", "running")))] == 1
    assert not any(name == "meshwork_celery_queue_depth" for name, _ in samples)


OBSERVER = """
from protocol.metrics import JOB_STAGE_SECONDS, PEER_SESSIONS
JOB_STAGE_SECONDS.labels(role="validator", stage="started").observe(0.3)
PEER_SESSIONS.labels(path="/v1/miner/").inc()
"""


def test_samples_of_the_nodes_other_processes_are_summed(tmp_path, monkeypatch, broker):
    """With PROMETHEUS_MULTIPROC_DIR, what another process (the validator's job loop) observed is
    on this process's page."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    pids = []
    for _ in range(2):
        process = subprocess.Popen([sys.executable, "-c", OBSERVER], env=env, cwd=ROOT)
        assert process.wait(timeout=60) == 0
        pids.append(process.pid)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = _samples(metrics_page(NodeRole.VALIDATOR))
    stage = (("role", "validator"), ("stage", "started"))
    assert samples[("meshwork_job_stage_seconds_count", stage)] == 2
    assert samples[("meshwork_job_stage_seconds_bucket", (("le", "0.5"), *stage))] == 2
    assert samples[("meshwork_job_stage_seconds_sum", stage)] == pytest.approx(0.6)
    sessions = ("meshwork_peer_sessions", (("path", "/v1/miner/"),))
    assert samples[sessions] == 2
    # A live-summed gauge forgets a process once it is marked dead (or the directory is emptied at
    # the node's start, docs/observability.md).
    multiprocess.mark_process_dead(pids[0], str(tmp_path))
    assert _samples(metrics_page(NodeRole.VALIDATOR))[sessions] == 1
