"""The facilitator's responses as pydantic models (DESIGN.md "Facilitator REST API").

Unknown fields are ignored, so a newer facilitator that adds fields does not break an older
client; the fields below are the ones the API promises."""

from datetime import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

JobStatus = Literal["pending", "dispatched", "running", "completed", "failed", "timeout", "cancelled", "rejected"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "timeout", "cancelled", "rejected"})


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class StatusEvent(_Response):
    status: str
    at: datetime
    detail: str = ""


class JobFailure(_Response):
    kind: Literal["job", "infrastructure"]
    reason: str
    detail: str = ""


class Job(_Response):
    uuid: UUID
    status: JobStatus
    status_history: list[StatusEvent]
    image: str = ""
    args: list[str] = []
    tag: str = ""
    timeout_s: int | None = None
    exit_code: int | None
    stdout: str
    stderr: str
    output_url: str | None
    executor_class: str
    miner_hotkey: str
    validator_hotkey: str
    cost: Decimal | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    failure: JobFailure | None

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES


class JobPage(_Response):
    """One page of `GET /api/v1/jobs/` (limit/offset pagination)."""

    count: int
    next: str | None
    previous: str | None
    results: list[Job]


class ExecutorClass(_Response):
    name: str
    description: str = ""
    cpus: float
    memory_mb: int
    gpu: bool = False
    gpu_count: int = 0
    gpu_model: str = ""
    price_per_second: Decimal
    weight: float | None = None
    # Willing at the current price (docs/market.md); None until a validator has reported them.
    willing_miners: int | None = None
    willing_executors: int | None = None


class Account(_Response):
    username: str
    balance: Decimal
    held: Decimal
    available: Decimal


class LedgerEntry(_Response):
    """One row of `GET /api/v1/account/history/`: credits added (grant, topup) or charged (the
    other kinds; a refund is a negative charge), and the balance after it."""

    id: int
    kind: str
    amount: Decimal
    note: str = ""
    job: UUID | None = None
    created_at: datetime
    balance_after: Decimal


class LedgerPage(_Response):
    count: int
    next: str | None
    previous: str | None
    results: list[LedgerEntry]


class ObjectHealth(_Response):
    shares: int  # placed and live now
    needed: int  # to read it (k)
    placed: int  # it should have (n)
    verified_at: datetime | None = None


class StoredObject(_Response):
    """`POST /api/v1/objects/`, `GET /api/v1/objects/<id>/` (docs/storage.md)."""

    id: UUID
    name: str
    size: int
    sha256: str
    created_at: datetime
    health: ObjectHealth


class ObjectPage(_Response):
    count: int
    next: str | None
    previous: str | None
    results: list[StoredObject]


RentalStatus = Literal["pending", "active", "ended", "failed"]


class SshLogin(_Response):
    host: str
    port: int
    user: str

    @property
    def command(self) -> str:
        return f"ssh -p {self.port} {self.user}@{self.host}"


class Rental(_Response):
    """`/api/v1/rentals/` (docs/rentals.md): a machine reached over SSH until `expires_at`."""

    uuid: UUID
    status: RentalStatus
    executor_class: str
    duration_s: int
    ssh: SshLogin | None
    miner_hotkey: str = ""
    created_at: datetime
    started_at: datetime | None
    expires_at: datetime | None
    finished_at: datetime | None
    cost: Decimal | None
    status_history: list[StatusEvent]
    failure: JobFailure | None = None

    @property
    def settled(self) -> bool:
        """It will not become active any more (ended or failed)."""
        return self.status in ("ended", "failed")


class RentalPage(_Response):
    count: int
    next: str | None
    previous: str | None
    results: list[Rental]
