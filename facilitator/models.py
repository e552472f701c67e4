"""Facilitator state: users' jobs with an append-only status history, outputs, credit accounts."""

import uuid

from django.conf import settings
from django.db import models

from protocol.messages.jobs import JobStatus

STATUS_CHOICES = [(s.value, s.value) for s in JobStatus]


class CreditAccount(models.Model):
    """`held` is reserved for jobs in flight (timeout × price), so concurrent jobs cannot overdraw."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credits")
    balance = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    held = models.DecimalField(max_digits=20, decimal_places=6, default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(held__gte=0), name="credit_held_nonneg"),
            models.CheckConstraint(condition=models.Q(balance__gte=0), name="credit_balance_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.balance} ({self.held} held)"


class CreditKind(models.TextChoices):
    GRANT = "grant"  # credits given (the operator's, the local network's start-up)
    TOPUP = "topup", "Top-up"  # credits bought: added like a grant, told apart for the books
    CHARGE = "charge"  # a job's settlement: its final cost minus what its intervals charged
    INTERVAL = "interval"  # one interval receipt of a running job (attempt, index)
    REFUND = "refund"  # negative: an attempt's intervals given back, or a settlement below them
    STORAGE = "storage"  # GB-hours of a stored object (facilitator/services/storage_billing.py)


class CreditTransaction(models.Model):
    """Append-only (a database trigger refuses UPDATE and DELETE: migration 0007). A job's rows are
    what it charged the user (a refund is negative), so they sum to its cost; GRANT and TOPUP rows
    are credits added. The balance is Σ added − Σ charged (facilitator.selectors.credit_ledger_check)."""

    Kind = CreditKind

    # PROTECT: a user or account with a ledger cannot be deleted (the rows could not go with it);
    # deactivate the user instead.
    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="transactions")
    job = models.ForeignKey("Job", null=True, blank=True, on_delete=models.PROTECT)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.DecimalField(max_digits=20, decimal_places=6)
    note = models.CharField(max_length=255, blank=True, default="")
    by = models.CharField(max_length=160, blank=True, default="")  # who added credits: "admin NAME", "command"
    # The validator's attempt and interval index, for INTERVAL rows and per-attempt REFUND rows.
    attempt = models.PositiveIntegerField(null=True, blank=True)
    index = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # A job is charged at most once, whatever retries or duplicate reports happen.
            models.UniqueConstraint(
                fields=["job"], condition=models.Q(kind=CreditKind.CHARGE), name="credit_one_charge_per_job"
            ),
            # An interval receipt is charged once, however often it is delivered.
            models.UniqueConstraint(
                fields=["job", "attempt", "index"],
                condition=models.Q(kind=CreditKind.INTERVAL),
                name="credit_one_interval_per_index",
            ),
            # An attempt is refunded once; the settlement's refund has no attempt.
            models.UniqueConstraint(
                fields=["job", "attempt"],
                condition=models.Q(kind=CreditKind.REFUND, attempt__isnull=False),
                name="credit_one_refund_per_attempt",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=CreditKind.INTERVAL)
                | models.Q(job__isnull=False, attempt__isnull=False, index__isnull=False),
                name="credit_interval_identified",
            ),
        ]


class Job(models.Model):
    """A job, or a rental (docs/rentals.md): a machine reached over SSH for `timeout_s`, routed,
    billed and scored as a job is; `/api/v1/rentals/` shows those, `/api/v1/jobs/` the rest."""

    class Kind(models.TextChoices):
        JOB = "job"
        RENTAL = "rental"

    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.JOB)
    # A rental's: the user's key (normalised, protocol/ssh_keys.py) and where its machine answers
    # while it runs (cleared when an attempt fails and the rental moves on).
    ssh_public_key = models.TextField(blank=True, default="")
    ssh_host = models.CharField(max_length=255, blank=True, default="")
    ssh_port = models.PositiveIntegerField(null=True, blank=True)
    ssh_user = models.CharField(max_length=32, blank=True, default="")
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=JobStatus.PENDING)
    image = models.CharField(max_length=255)
    args = models.JSONField(default=list)
    env = models.JSONField(default=dict)
    executor_class = models.CharField(max_length=64)
    timeout_s = models.PositiveIntegerField()
    input = models.JSONField(null=True, blank=True)
    tag = models.CharField(max_length=255, blank=True, default="")
    validator_hotkey = models.CharField(max_length=64, blank=True, default="")
    miner_hotkey = models.CharField(max_length=64, blank=True, default="")
    exit_code = models.IntegerField(null=True, blank=True)
    stdout = models.TextField(blank=True, default="")
    stderr = models.TextField(blank=True, default="")
    # Bytes the job wrote to each stream (None until reported), and whether stdout/stderr above keep
    # only their head (they then end with a marker saying so).
    stdout_bytes = models.BigIntegerField(null=True, blank=True)
    stderr_bytes = models.BigIntegerField(null=True, blank=True)
    stdout_truncated = models.BooleanField(default=False)
    stderr_truncated = models.BooleanField(default=False)
    executor_seconds = models.FloatField(null=True, blank=True)
    price_per_second = models.DecimalField(max_digits=20, decimal_places=6)
    hold = models.DecimalField(max_digits=20, decimal_places=6)
    cost = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    failure_kind = models.CharField(max_length=16, blank=True, default="")
    failure_reason = models.CharField(max_length=64, blank=True, default="")
    failure_detail = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["user", "tag"]),
            models.Index(fields=["user", "kind", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.uuid} ({self.status})"


class JobStatusEvent(models.Model):
    """Append-only: one row per transition or progress report, never updated."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=16, choices=STATUS_CHOICES)
    detail = models.TextField(blank=True, default="")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class JobOutput(models.Model):
    job = models.OneToOneField(Job, on_delete=models.CASCADE, primary_key=True, related_name="output")
    zip_bytes = models.BinaryField()
    size = models.PositiveIntegerField()


class ValidatorSession(models.Model):
    """A live websocket from a validator; closed sessions keep `disconnected_at`."""

    hotkey = models.CharField(max_length=64, db_index=True)
    channel_name = models.CharField(max_length=255, unique=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.hotkey} via {self.channel_name}"


class ExecutorCensusReport(models.Model):
    """One `executor.census` a validator sent: executors per class, claimed vs verified, as that
    validator last verified them. Bounded: facilitator/services/census.py prunes old rows."""

    validator_hotkey = models.CharField(max_length=64)
    cycle = models.BigIntegerField()  # the validator's newest finished benchmark run
    reported_at = models.DateTimeField()  # when the validator counted it (its clock)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # [{"executor_class", "miners", "claimed", "verified"}], as the message carried it
    classes = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["validator_hotkey", "-received_at"])]

    def __str__(self) -> str:
        return f"census of {self.validator_hotkey} (cycle {self.cycle})"


class StoredObject(models.Model):
    """A user's object (docs/storage.md): staged here until a validator has placed it, then only
    its metadata and health; the validator holding its keys is `validator_hotkey`."""

    class Status(models.TextChoices):
        STAGING = "staging"
        STORED = "stored"
        FAILED = "failed"
        DELETING = "deleting"
        DELETED = "deleted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stored_objects")
    name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STAGING, db_index=True)
    validator_hotkey = models.CharField(max_length=64, blank=True, default="")
    shares = models.PositiveSmallIntegerField(default=0)
    needed = models.PositiveSmallIntegerField(default=0)
    placed = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=32, blank=True, default="")
    failure_detail = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    stored_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    billed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"object {self.name} ({self.id})"


class ObjectRetrieval(models.Model):
    """One download: the validator PUTs the plaintext here, the user's request streams it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    request_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    object = models.ForeignKey(StoredObject, on_delete=models.CASCADE, related_name="retrievals")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
