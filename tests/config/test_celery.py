"""The Celery app: every task has its own limits, and every log line of a task says which task."""

import contextvars
import logging
import uuid

import pytest
import structlog
from django.conf import settings

import facilitator.tasks
from config.celery import _logging_setup, _node_bind
from config.celery import app as celery_app
from protocol.identity import node_hotkey
from protocol.logs import bind_job

logger = logging.getLogger(__name__)


def _meshwork_tasks() -> dict[str, object]:
    celery_app.loader.import_default_modules()
    return {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}


def test_every_task_has_a_soft_limit_below_its_hard_limit_within_the_global_ones():
    for name, task in _meshwork_tasks().items():
        soft, hard = getattr(task, "soft_time_limit", None), getattr(task, "time_limit", None)
        assert soft is not None, name
        assert hard is not None, name
        assert 0 < soft < hard <= settings.CELERY_TASK_TIME_LIMIT, name
        assert soft <= settings.CELERY_TASK_SOFT_TIME_LIMIT, name


def test_a_tasks_log_lines_carry_the_task_and_the_job_bound_inside_it(monkeypatch, json_log):
    job_uuid = uuid.uuid4()

    def dispatch() -> int:
        with bind_job(job_uuid):
            logger.info("dispatching")
        logger.info("done")
        return 1

    monkeypatch.setattr(facilitator.tasks, "jobs_dispatch_pending", dispatch)
    result = facilitator.tasks.dispatch_pending_jobs.apply()
    assert result.get() == 1
    lines = [line for line in json_log() if line["logger"] == __name__]
    assert [line["event"] for line in lines] == ["dispatching", "done"]
    for line in lines:
        assert line["task"] == "facilitator.tasks.dispatch_pending_jobs"
        assert line["task_id"] == result.id
    assert lines[0]["job_uuid"] == str(job_uuid)
    assert "job_uuid" not in lines[1]
    assert "task" not in structlog.contextvars.get_contextvars()  # unbound once the task ended


def test_a_task_that_fails_still_unbinds_its_context(monkeypatch):
    def broken() -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(facilitator.tasks, "jobs_expire_stale", broken)
    with structlog.contextvars.bound_contextvars(task="outer"):
        result = facilitator.tasks.expire_stale_jobs.apply()
        assert result.failed()
        assert structlog.contextvars.get_contextvars()["task"] == "outer"  # the outer binding is restored


@pytest.fixture
def root_logging():
    """Put the root logger back as it was after a test reconfigures logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_worker_logging_uses_the_settings_and_keeps_the_level_given_on_the_command_line(root_logging):
    _logging_setup(loglevel=logging.WARNING)
    formatters = [handler.formatter for handler in root_logging.handlers]
    assert any(isinstance(f, structlog.stdlib.ProcessorFormatter) for f in formatters)
    assert root_logging.level == logging.WARNING


def _bound_by_node_bind() -> dict[str, object]:
    """What the worker_process_init receiver binds, seen in a context of its own (the test's stays clean)."""

    def run() -> dict[str, object]:
        _node_bind()
        return dict(structlog.contextvars.get_contextvars())

    return contextvars.copy_context().run(run)


def test_a_worker_process_binds_its_nodes_role_and_hotkey(node_key, settings):
    settings.MESHWORK_ROLE = "miner"
    assert _bound_by_node_bind() == {"role": "miner", "hotkey": node_key.ss58}
    assert "hotkey" not in structlog.contextvars.get_contextvars()


def test_a_worker_without_its_key_yet_binds_its_role_and_no_hotkey(tmp_path, settings):
    settings.HOTKEY_PATH = tmp_path / "missing.json"
    node_hotkey.cache_clear()
    try:
        assert _bound_by_node_bind() == {"role": settings.MESHWORK_ROLE, "hotkey": ""}
    finally:
        node_hotkey.cache_clear()
