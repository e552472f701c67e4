"""Receipts: what a validator and a miner both signed about one job, so any validator can score
work it never saw.

Kinds (`ReceiptKind`):
- `job_started`: the validator's reservation (class, timeout), signed by the validator when it
  reserves; the miner countersigns it when it accepts.
- `job_accepted`: the miner's acceptance, signed by the miner; the validator countersigns it.
- `interval`: every VALIDATOR_RECEIPT_INTERVAL_S of a running job, the executor-seconds the
  validator saw in that interval (index 1, 2, ...), so work done is paid even if the job dies later.
- `job_finished`: the validator's own measure of the whole job's executor-seconds and its outcome.

Both signatures are hex over `receipt_bytes(payload)`: the canonical JSON (protocol/canonical.py)
of the payload as `model_dump(mode="json")`. A receipt is identified by (kind, job_uuid, index);
index is 0 for every kind but `interval`."""

import enum
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, TypeAdapter, ValidationError

from protocol.canonical import canonical_json
from protocol.keys import Hotkey, verify_signature
from protocol.types import NulFreeText, SS58Address, StrictModel

Crypto = Literal["sr25519", "ed25519"]
MAX_RECEIPT_SECONDS = 86400.0 * 61  # a rental's 60 days and a margin: nothing longer is plausible


class ReceiptKind(enum.StrEnum):
    JOB_STARTED = "job_started"
    JOB_ACCEPTED = "job_accepted"
    INTERVAL = "interval"
    JOB_FINISHED = "job_finished"


class JobKind(enum.StrEnum):
    ORGANIC = "organic"
    BENCHMARK = "benchmark"


class Outcome(enum.StrEnum):
    """How a job ended, as the validator saw it. Only `infrastructure` is the miner's failure."""

    COMPLETED = "completed"
    JOB_FAILED = "job_failed"  # non-zero exit, bad image, ...: the job's own fault
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    INFRASTRUCTURE = "infrastructure"


class _Payload(StrictModel):
    netuid: int = Field(ge=0, le=65535)
    job_uuid: UUID
    validator_hotkey: SS58Address
    validator_crypto: Crypto = "sr25519"
    miner_hotkey: SS58Address
    miner_crypto: Crypto = "sr25519"
    executor_class: NulFreeText = Field(min_length=1, max_length=64)
    job_kind: JobKind = JobKind.ORGANIC
    at: datetime  # when the author signed it (UTC)


class JobStartedPayload(_Payload):
    kind: Literal["job_started"] = "job_started"
    timeout_s: int = Field(ge=1, le=86400 * 60)
    ttl_s: float = Field(gt=0, le=3600)  # how long the reservation holds an executor unanswered


class JobAcceptedPayload(_Payload):
    kind: Literal["job_accepted"] = "job_accepted"


class IntervalPayload(_Payload):
    kind: Literal["interval"] = "interval"
    index: int = Field(ge=1, le=100_000)
    seconds: float = Field(ge=0, le=MAX_RECEIPT_SECONDS)  # executor-seconds in this interval only


class JobFinishedPayload(_Payload):
    kind: Literal["job_finished"] = "job_finished"
    started_at: datetime | None  # when the validator saw the container start (None: never)
    seconds: float = Field(ge=0, le=MAX_RECEIPT_SECONDS)  # the whole job's, as the validator measured
    outcome: Outcome


ReceiptPayload = Annotated[
    JobStartedPayload | JobAcceptedPayload | IntervalPayload | JobFinishedPayload, Field(discriminator="kind")
]
PAYLOAD_ADAPTER: TypeAdapter[ReceiptPayload] = TypeAdapter(ReceiptPayload)
SIGNATURE = Annotated[str, Field(max_length=200, pattern=r"^(0x)?[0-9a-fA-F]*$")]


class Receipt(StrictModel):
    """A receipt as stored and served (DESIGN.md, Miner API). The top-level kind, job and hotkeys
    repeat the payload's, for filtering; `receipt_refusal` checks they agree."""

    kind: ReceiptKind
    job_uuid: UUID
    validator_hotkey: SS58Address
    miner_hotkey: SS58Address
    payload: dict[str, object]
    validator_signature: SIGNATURE
    miner_signature: SIGNATURE


class ReceiptRefusal(enum.StrEnum):
    """Why a receipt was not counted (machine-readable, stored by the validator that refused it)."""

    MALFORMED = "malformed"
    MISMATCH = "mismatch"  # the top-level fields disagree with the signed payload
    FOREIGN_SUBNET = "foreign_subnet"
    OTHER_MINER = "other_miner"  # served by a miner it is not about
    BAD_VALIDATOR_SIGNATURE = "bad_validator_signature"
    BAD_MINER_SIGNATURE = "bad_miner_signature"
    UNKNOWN_VALIDATOR = "unknown_validator"  # not a validator of the subnet with enough stake
    REPLAYED = "replayed"  # the same (kind, job, index) already counted with other content or miner
    IMPLAUSIBLE = "implausible"  # e.g. an interval longer than the receipt interval allows
    FROM_FUTURE = "from_future"


def receipt_index(payload: ReceiptPayload) -> int:
    return payload.index if isinstance(payload, IntervalPayload) else 0


def receipt_bytes(payload: ReceiptPayload) -> bytes:
    return canonical_json(payload.model_dump(mode="json"))


def receipt_sign(payload: ReceiptPayload, hotkey: Hotkey) -> str:
    return hotkey.sign(receipt_bytes(payload))


def receipt_assemble(payload: ReceiptPayload, *, validator_signature: str, miner_signature: str) -> Receipt:
    return Receipt(
        kind=ReceiptKind(payload.kind),
        job_uuid=payload.job_uuid,
        validator_hotkey=payload.validator_hotkey,
        miner_hotkey=payload.miner_hotkey,
        payload=payload.model_dump(mode="json"),
        validator_signature=validator_signature,
        miner_signature=miner_signature,
    )


def signed_by(
    payload: ReceiptPayload, *, signer: Literal["validator", "miner"], signature: str, data: bytes | None = None
) -> bool:
    """True when `signature` is the validator's (or the miner's) over this payload (`data`: its
    `receipt_bytes`, when the caller already has them)."""
    if signer == "validator":
        ss58, crypto = payload.validator_hotkey, payload.validator_crypto
    else:
        ss58, crypto = payload.miner_hotkey, payload.miner_crypto
    data = receipt_bytes(payload) if data is None else data
    return verify_signature(ss58=ss58, crypto=crypto, data=data, signature=signature)


def receipt_parse(receipt: Receipt) -> ReceiptPayload | ReceiptRefusal:
    """The typed payload, or MALFORMED/MISMATCH: signatures are not checked here."""
    try:
        payload = PAYLOAD_ADAPTER.validate_python(receipt.payload)
    except ValidationError:
        return ReceiptRefusal.MALFORMED
    if (
        payload.kind != receipt.kind
        or payload.job_uuid != receipt.job_uuid
        or payload.validator_hotkey != receipt.validator_hotkey
        or payload.miner_hotkey != receipt.miner_hotkey
    ):
        return ReceiptRefusal.MISMATCH
    return payload


def receipt_refusal(receipt: Receipt, *, netuid: int, served_by: str) -> ReceiptPayload | ReceiptRefusal:
    """Everything a receipt proves by itself: well-formed, this subnet, about the miner that served
    it, signed by both. Whether its validator counts and whether it was seen before is the reader's
    business (it needs the metagraph and its store)."""
    payload = receipt_parse(receipt)
    if isinstance(payload, ReceiptRefusal):
        return payload
    if payload.netuid != netuid:
        return ReceiptRefusal.FOREIGN_SUBNET
    if payload.miner_hotkey != served_by:
        return ReceiptRefusal.OTHER_MINER
    data = receipt_bytes(payload)  # once for both signatures
    if not signed_by(payload, signer="validator", signature=receipt.validator_signature, data=data):
        return ReceiptRefusal.BAD_VALIDATOR_SIGNATURE
    if not signed_by(payload, signer="miner", signature=receipt.miner_signature, data=data):
        return ReceiptRefusal.BAD_MINER_SIGNATURE
    return payload


class ReceiptPage(StrictModel):
    """One page of `GET <miner>/api/v1/receipts/` (DESIGN.md): oldest first, `next` is the cursor
    of the following page, or None at the end."""

    results: list[Receipt] = Field(max_length=1000)
    next: str | None = Field(default=None, max_length=200)
