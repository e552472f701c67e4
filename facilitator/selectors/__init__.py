"""Reads of the facilitator's tables. Database only: no network, no writes."""

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict
from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, FirstValue
from rest_framework.authtoken.models import Token

from facilitator.models import (
    CreditAccount,
    CreditTransaction,
    Job,
    JobOutput,
    JobStatusEvent,
    ObjectRetrieval,
    StoredObject,
    ValidatorSession,
)
from protocol.messages.jobs import TERMINAL_STATUSES, JobStatus

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

IN_FLIGHT = [JobStatus.DISPATCHED, JobStatus.RUNNING]
JOB_CHARGE_KINDS = [CreditTransaction.Kind.CHARGE, CreditTransaction.Kind.INTERVAL, CreditTransaction.Kind.REFUND]
CREDIT_ADD_KINDS = [CreditTransaction.Kind.GRANT, CreditTransaction.Kind.TOPUP]
MONEY: "DecimalField[Decimal, Decimal]" = DecimalField(max_digits=20, decimal_places=6)


def job_list(*, user: Any, filters: dict[str, str] | None = None, kind: str = Job.Kind.JOB) -> QuerySet[Job]:
    """The user's jobs, or with `kind=rental` its rentals (each API lists only its own kind)."""
    filters = filters or {}
    qs = (
        Job.objects.filter(user=user, kind=kind)
        .annotate(has_output=Exists(JobOutput.objects.filter(job=OuterRef("pk"))), charged=_charged_so_far())
        .prefetch_related(Prefetch("history", queryset=JobStatusEvent.objects.order_by("at", "id")))
        .defer("input")
        .order_by("-created_at")
    )
    if "status" in filters:
        qs = qs.filter(status=filters["status"])
    if "tag" in filters:
        qs = qs.filter(tag=filters["tag"])
    return qs


def _charged_so_far() -> Coalesce:
    rows = CreditTransaction.objects.filter(job=OuterRef("pk"), kind__in=JOB_CHARGE_KINDS)
    return _sum_of(rows.order_by().values("job").annotate(total=Sum("amount")).values("total"))


def job_get(*, user: Any, job_uuid: UUID, kind: str = Job.Kind.JOB) -> Job | None:
    return job_list(user=user, kind=kind).filter(uuid=job_uuid).first()


def job_output_get(*, user: Any, job_uuid: UUID) -> JobOutput | None:
    return JobOutput.objects.filter(job__user=user, job__uuid=job_uuid).first()


def job_last_event(*, job: Job) -> JobStatusEvent | None:
    return JobStatusEvent.objects.filter(job=job).order_by("-at", "-id").first()


def jobs_pending_uuids(*, limit: int) -> list[UUID]:
    """Oldest first: the order they are dispatched in."""
    pending = Job.objects.filter(status=JobStatus.PENDING).order_by("created_at")
    return list(pending.values_list("uuid", flat=True)[:limit])


def jobs_held_by_validator(*, hotkey: str) -> QuerySet[Job]:
    """The unfinished jobs a validator was given."""
    return Job.objects.filter(validator_hotkey=hotkey).exclude(status__in=TERMINAL_STATUSES)


def jobs_in_flight_per_validator() -> dict[str, int]:
    rows = Job.objects.filter(status__in=IN_FLIGHT).values("validator_hotkey").annotate(n=Count("uuid"))
    return {row["validator_hotkey"]: row["n"] for row in rows}


def credit_balance_get(*, user: Any) -> tuple[Decimal, Decimal]:
    """(balance, held); a user without an account has nothing."""
    account = CreditAccount.objects.filter(user=user).first()
    return (account.balance, account.held) if account else (Decimal(0), Decimal(0))


def _signed_amount() -> Case:
    """A row's effect on the balance: grants and top-ups add, every other kind is a charge."""
    return Case(When(kind__in=CREDIT_ADD_KINDS, then=F("amount")), default=-F("amount"), output_field=MONEY)


class LedgerBalance(TypedDict):
    balance_after: Decimal


def credit_history(
    *, user: Any, kind: str | None = None
) -> "QuerySet[WithAnnotations[CreditTransaction, LedgerBalance]]":
    """The user's ledger, newest first, each row with `balance_after`: the running sum of the
    account's rows up to it, which is its balance then (credit_ledger_check), rows in id order
    being the order the locked account was moved in."""
    rows = CreditTransaction.objects.filter(account__user=user).annotate(
        balance_after=Window(Sum(_signed_amount()), order_by=F("id").asc())
    )
    if kind is not None:
        # A filter on a window runs after the windows (Django's QUALIFY), so balance_after still
        # counts the other kinds' rows; a plain `kind=` filter would drop them first.
        rows = rows.annotate(row_kind=Window(FirstValue("kind"), partition_by=[F("id")])).filter(row_kind=kind)
    return rows.order_by("-id")


class LedgerMismatch(TypedDict):
    username: str
    balance: Decimal
    ledger: Decimal  # Σ grants and top-ups − Σ charges (charge, interval, refund, storage)
    held: Decimal
    open_holds: Decimal  # Σ over the user's unfinished jobs of hold − what the job charged so far


def credit_ledger_check() -> list[LedgerMismatch]:
    """The accounts breaking either invariant: balance == ledger, held == open holds."""
    ledger = CreditTransaction.objects.filter(account=OuterRef("pk")).order_by().values("account")
    open_jobs = Job.objects.filter(user=OuterRef("user_id")).exclude(status__in=TERMINAL_STATUSES).order_by()
    open_rows = CreditTransaction.objects.filter(job__user=OuterRef("user_id"), kind__in=JOB_CHARGE_KINDS)
    open_rows = open_rows.exclude(job__status__in=TERMINAL_STATUSES).order_by()
    accounts = CreditAccount.objects.annotate(
        ledger=_sum_of(ledger.annotate(t=Sum(_signed_amount())).values("t")),
        holds=_sum_of(open_jobs.values("user").annotate(t=Sum("hold")).values("t")),
        charged=_sum_of(open_rows.values("job__user").annotate(t=Sum("amount")).values("t")),
    ).select_related("user")
    return [
        LedgerMismatch(
            username=a.user.username, balance=a.balance, ledger=a.ledger, held=a.held, open_holds=a.holds - a.charged
        )
        for a in accounts.order_by("pk")
        if a.balance != a.ledger or a.held != a.holds - a.charged
    ]


def _sum_of(total: QuerySet[Any]) -> Coalesce:
    return Coalesce(Subquery(total, output_field=MONEY), Value(Decimal(0)), output_field=MONEY)


def job_charged_total(*, job: Job) -> Decimal:
    """What the job has charged its user so far (its final cost once it ended)."""
    rows = CreditTransaction.objects.filter(job=job, kind__in=JOB_CHARGE_KINDS)
    return rows.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def job_interval_attempts(*, job: Job, open_only: bool = False) -> dict[int, Decimal]:
    """{attempt: what its intervals charged}, for the attempts with interval rows; `open_only`
    leaves out the attempts already refunded."""
    rows = CreditTransaction.objects.filter(job=job, kind=CreditTransaction.Kind.INTERVAL)
    if open_only:
        refunded = CreditTransaction.objects.filter(job=job, kind=CreditTransaction.Kind.REFUND, attempt__isnull=False)
        rows = rows.exclude(attempt__in=refunded.values("attempt"))
    totals = rows.values("attempt").annotate(total=Sum("amount")).order_by("attempt")
    return {row["attempt"]: row["total"] for row in totals}


def job_last_refunded_attempt(*, job: Job) -> int:
    rows = CreditTransaction.objects.filter(job=job, kind=CreditTransaction.Kind.REFUND, attempt__isnull=False)
    return rows.aggregate(last=Max("attempt"))["last"] or 0


def job_interval_exists(*, job: Job, attempt: int, index: int) -> bool:
    rows = CreditTransaction.objects.filter(job=job, kind=CreditTransaction.Kind.INTERVAL)
    return rows.filter(attempt=attempt, index=index).exists()


def validator_sessions_live(*, hotkey: str | None = None) -> list[ValidatorSession]:
    sessions = ValidatorSession.objects.filter(disconnected_at=None)
    return list(sessions if hotkey is None else sessions.filter(hotkey=hotkey))


def validator_is_live(*, hotkey: str) -> bool:
    return ValidatorSession.objects.filter(hotkey=hotkey, disconnected_at=None).exists()


def validator_last_disconnected_at(*, hotkey: str) -> datetime | None:
    """When the validator's newest closed session ended (None if it never had one)."""
    last: datetime | None = ValidatorSession.objects.filter(hotkey=hotkey).aggregate(last=Max("disconnected_at"))[
        "last"
    ]
    return last


async def api_token_user_aget(*, key: str) -> User | None:
    """The active user an API token belongs to (async: the long-poll view holds no thread)."""
    token = await Token.objects.select_related("user").filter(key=key).afirst()
    return token.user if token is not None and token.user.is_active else None


# Storage (docs/storage.md).

VISIBLE_OBJECT_STATUSES = ("staging", "stored")


def object_get(*, user: User, object_id: UUID) -> StoredObject | None:
    """The user's object while it exists for them (not failed, not deleted)."""
    return StoredObject.objects.filter(id=object_id, user=user, status__in=VISIBLE_OBJECT_STATUSES).first()


def object_get_any(*, object_id: UUID) -> StoredObject | None:
    return StoredObject.objects.filter(id=object_id).first()


def objects_list(*, user: User) -> QuerySet[StoredObject]:
    return StoredObject.objects.filter(user=user, status="stored").order_by("-created_at", "id")


def retrieval_get(*, request_id: UUID) -> ObjectRetrieval | None:
    return ObjectRetrieval.objects.filter(request_id=request_id).first()
