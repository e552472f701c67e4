"""Every process's log lines: structured, JSON in production, readable on a console."""

import io
import logging
import uuid

import pytest
import structlog

from config.logging import logging_dict
from protocol.logs import bind_job, bind_node

logger = logging.getLogger(__name__)


def _handler(log_format: str) -> tuple[logging.Handler, io.StringIO]:
    config = dict(logging_dict(log_format=log_format, level="INFO")["formatters"]["structlog"])
    factory = config.pop("()")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(factory(**config))
    return handler, stream


def test_json_lines_carry_the_event_its_source_and_what_was_bound(json_log):
    job_uuid = uuid.uuid4()
    with bind_node(hotkey="5Node", role="validator"), bind_job(job_uuid):
        logger.info("miner %s reserved", "5Miner", extra={"executor_class": "cpu.small"})
    [line] = [line for line in json_log() if line["logger"] == __name__]
    assert line["event"] == "miner 5Miner reserved"
    assert line["level"] == "info"
    assert line["timestamp"].endswith("Z")
    assert line["executor_class"] == "cpu.small"
    assert (line["hotkey"], line["role"], line["job_uuid"]) == ("5Node", "validator", str(job_uuid))


def test_json_lines_carry_the_traceback_of_an_exception(json_log):
    try:
        raise ValueError("bad frame")
    except ValueError:
        logger.exception("handling failed")
    [line] = [line for line in json_log() if line["logger"] == __name__]
    assert line["level"] == "error"
    assert "ValueError: bad frame" in line["exception"]


def test_structlog_loggers_write_the_same_json_lines(json_log):
    structlog.get_logger(__name__).warning("native %s", "call", peer="5Peer")
    [line] = [line for line in json_log() if line.get("logger") == __name__]
    assert (line["event"], line["peer"], line["level"]) == ("native call", "5Peer", "warning")


def test_console_lines_are_readable_and_carry_what_was_bound():
    handler, stream = _handler("console")
    logger.addHandler(handler)
    try:
        with bind_job("job-1"):
            logger.warning("lost validator %s", "5Val")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "lost validator 5Val" in text
    assert "job_uuid=job-1" in text
    assert "warning" in text
    assert not text.lstrip().startswith("{")


def test_an_unknown_format_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="LOG_FORMAT='xml': expected one of console, json"):
        logging_dict(log_format="xml", level="INFO")


def test_the_settings_route_stdlib_logging_through_structlog():
    formatters = [handler.formatter for handler in logging.getLogger().handlers]
    assert any(isinstance(f, structlog.stdlib.ProcessorFormatter) for f in formatters)
