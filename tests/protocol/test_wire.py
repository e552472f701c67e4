import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from protocol.catalogue import Catalogue, CatalogueClass, catalogue_sign, catalogue_verify
from protocol.keys import hotkey_create
from protocol.messages.common import ErrorCode, ErrorMessage, Failure, FailureKind, JobResult
from protocol.messages.facilitator import (
    CatalogueOffer,
    FacilitatorToValidator,
    JobRequest,
    JobStatusUpdate,
    ValidatorToFacilitator,
)
from protocol.messages.jobs import JobStatus
from protocol.messages.miner import MinerToValidator, ValidatorToMiner
from protocol.wire import ProtocolError, decode, encode
from tests.factories import job_spec, signed_reserve

TO_FACILITATOR: TypeAdapter = TypeAdapter(ValidatorToFacilitator)
TO_VALIDATOR: TypeAdapter = TypeAdapter(FacilitatorToValidator)
MAX = 64 * 1024


def _status(**overrides) -> dict:
    body = {"type": "job.status", "job_uuid": str(uuid.uuid4()), "status": "running"}
    body.update(overrides)
    return body


def _code(raw, adapter=TO_FACILITATOR, max_bytes=MAX) -> ErrorCode:
    with pytest.raises(ProtocolError) as info:
        decode(adapter, raw, max_bytes=max_bytes)
    return info.value.code


def test_decodes_a_valid_frame_into_its_type():
    body = _status(detail="started", miner_hotkey="5Miner")
    message = decode(TO_FACILITATOR, json.dumps(body), max_bytes=MAX)
    assert message == JobStatusUpdate(
        job_uuid=uuid.UUID(body["job_uuid"]), status=JobStatus.RUNNING, detail="started", miner_hotkey="5Miner"
    )
    assert decode(TO_FACILITATOR, json.dumps(body).encode(), max_bytes=MAX) == message


def test_encode_then_decode_is_identity():
    update = JobStatusUpdate(
        job_uuid=uuid.uuid4(),
        status=JobStatus.FAILED,
        result=JobResult(exit_code=3, stdout="out", stderr="err", executor_seconds=1.5),
        failure=Failure(kind=FailureKind.JOB, reason="nonzero_exit", detail="exit 3"),
    )
    assert decode(TO_FACILITATOR, encode(update), max_bytes=MAX) == update
    request = JobRequest(job_uuid=uuid.uuid4(), spec=job_spec(env={"A": "1"}))
    assert decode(TO_VALIDATOR, encode(request), max_bytes=MAX) == request
    validator, _ = hotkey_create()
    reserve = signed_reserve(validator=validator, miner_hotkey=hotkey_create()[0].ss58, image="img", timeout_s=5)
    assert decode(TypeAdapter(ValidatorToMiner), encode(reserve), max_bytes=MAX) == reserve


def test_a_catalogue_offer_still_verifies_after_the_wire():
    owner, _ = hotkey_create()
    item = CatalogueClass(
        name="gpu.a100", cpus=8.5, memory_mb=65536, pids=512, output_mb=512, gpu_count=1,
        price_per_second="0.050000", weight=8.0, reference_seconds={"pow": 0.25},
    )  # fmt: skip
    catalogue = Catalogue(
        netuid=1, version=3, issued_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), classes=[item]
    )
    offer = CatalogueOffer(envelope=catalogue_sign(catalogue=catalogue, hotkey=owner))
    decoded = decode(TO_FACILITATOR, encode(offer), max_bytes=MAX)
    assert decoded == offer
    assert catalogue_verify(envelope=decoded.envelope, owner_ss58=owner.ss58, netuid=1) == catalogue


def test_error_message_is_part_of_every_union():
    error = ErrorMessage(code=ErrorCode.MALFORMED, detail="x")
    unions: tuple[Any, ...] = (ValidatorToFacilitator, FacilitatorToValidator, ValidatorToMiner, MinerToValidator)
    for union in unions:
        assert decode(TypeAdapter(union), encode(error), max_bytes=MAX) == error


@pytest.mark.parametrize("raw", ["not json", "{", b"\xff\xfe\x00", "{'type': 'job.status'}", ""])
def test_not_json_is_malformed(raw):
    assert _code(raw) == ErrorCode.MALFORMED


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 50_000,  # a nesting bomb within the size limit (found by tests/fuzz)
        '{"type": "job.status", "detail": ' + "[" * 50_000 + "]" * 50_000 + "}",
        ('{"a":' * 20_000 + "1" + "}" * 20_000).encode(),
    ],
)
def test_deep_nesting_is_malformed_not_a_recursion_error(raw):
    with pytest.raises(ProtocolError) as info:
        decode(TO_FACILITATOR, raw, max_bytes=MAX * 4)
    assert (info.value.code, info.value.detail) == (ErrorCode.MALFORMED, "not JSON: nesting too deep")


def test_none_frame_is_malformed():
    assert _code(None) == ErrorCode.MALFORMED


@pytest.mark.parametrize("raw", ["[]", "[1, 2]", '"job.status"', "42", "null", "true"])
def test_non_object_is_malformed(raw):
    assert _code(raw) == ErrorCode.MALFORMED


@pytest.mark.parametrize("body", [{}, {"type": 5}, {"type": None}, {"kind": "job.status"}])
def test_object_without_a_string_type_is_malformed(body):
    assert _code(json.dumps(body)) == ErrorCode.MALFORMED


@pytest.mark.parametrize("kind", ["job.launch", "job.request", "handshake", "", "JOB.STATUS"])
def test_unknown_type_for_this_direction(kind):
    # job.request travels the other way: to the facilitator it is an unknown type.
    with pytest.raises(ProtocolError) as info:
        decode(TO_FACILITATOR, json.dumps({"type": kind, "job_uuid": str(uuid.uuid4())}), max_bytes=MAX)
    assert info.value.code == ErrorCode.UNKNOWN_TYPE
    assert repr(kind) in info.value.detail


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "job.status", "status": "running"}, "job_uuid"),
        (_status(job_uuid="not-a-uuid"), "job_uuid"),
        (_status(status="exploded"), "status"),
        (_status(surprise=1), "surprise"),
        (_status(detail="x" * 4001), "detail"),
        (_status(miner_hotkey="5" * 65), "miner_hotkey"),
        (_status(result={"exit_code": 0, "executor_seconds": -1}), "executor_seconds"),
        (_status(failure={"kind": "cosmic", "reason": "ray"}), "kind"),
    ],
)
def test_missing_or_bad_fields_are_malformed_and_name_the_field(body, field):
    with pytest.raises(ProtocolError) as info:
        decode(TO_FACILITATOR, json.dumps(body), max_bytes=MAX)
    assert info.value.code == ErrorCode.MALFORMED
    assert field in info.value.detail


@pytest.mark.parametrize(
    "spec",
    [
        {"image": "img\x00"},
        {"executor_class": "cpu\x00"},
        {"args": ["a", "b\x00"]},
        {"env": {"K\x00": "v"}},
        {"env": {"K": "\x00"}},
        {"input": {"kind": "url", "url": "https://x.y/\x00"}},
    ],
)
def test_a_nul_in_text_a_node_stores_is_malformed(spec):
    # Postgres text cannot hold NUL: refused at the wire, not by the database (found by tests/fuzz).
    body = {"type": "job.request", "job_uuid": str(uuid.uuid4()), "spec": job_spec().model_dump(mode="json") | spec}
    with pytest.raises(ProtocolError) as info:
        decode(TO_VALIDATOR, json.dumps(body), max_bytes=MAX)
    assert info.value.code == ErrorCode.MALFORMED
    assert "NUL characters are not allowed" in info.value.detail


def test_a_nul_in_captured_output_still_travels():
    result = {"exit_code": 0, "stdout": "a\x00b", "stderr": "\x00", "executor_seconds": 1}
    update = decode(TO_FACILITATOR, json.dumps(_status(detail="x\x00", result=result)), max_bytes=MAX)
    assert (update.detail, update.result.stdout) == ("x\x00", "a\x00b")


def test_too_large_is_refused_before_parsing():
    raw = json.dumps(_status(detail="x" * 200))
    assert _code(raw, max_bytes=len(raw) - 1) == ErrorCode.TOO_LARGE
    assert decode(TO_FACILITATOR, raw, max_bytes=len(raw)).detail == "x" * 200
    # Even a frame that is not JSON at all is refused for its size first.
    assert _code("{" * 100, max_bytes=10) == ErrorCode.TOO_LARGE


def test_size_limit_counts_utf8_bytes_not_characters():
    raw = json.dumps(_status(detail="é" * 200), ensure_ascii=False)
    assert len(raw.encode()) > len(raw)
    assert _code(raw, max_bytes=len(raw)) == ErrorCode.TOO_LARGE
    assert decode(TO_FACILITATOR, raw, max_bytes=len(raw.encode())).detail == "é" * 200


def test_protocol_error_as_message_is_a_bounded_error_frame():
    message = ProtocolError(ErrorCode.MALFORMED, "y" * 10_000).as_message()
    assert message.type == "error"
    assert message.code == ErrorCode.MALFORMED
    assert len(message.detail) == 4000
    assert json.loads(encode(message))["code"] == "malformed"
