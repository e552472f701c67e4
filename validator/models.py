"""Validator state: the miners it knows, the organic jobs it routes, updates owed upstream, and
what it verified: manifests, benchmark cycles and their checks."""

from uuid import uuid4

from django.db import models

from protocol.messages.jobs import JobStatus

STATUS_CHOICES = [(s.value, s.value) for s in JobStatus]


class Miner(models.Model):
    """A miner as the chain (and later the DHT) describes it; synced, never trusted blindly."""

    hotkey = models.CharField(max_length=64, unique=True)
    coldkey = models.CharField(max_length=64, blank=True, default="")
    uid = models.IntegerField(null=True, blank=True)
    address = models.CharField(max_length=255, blank=True, default="")
    stake = models.BigIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    synced_at = models.DateTimeField(auto_now=True)
    # Where this validator stands in the miner's stake-proportional split, as the miner last said
    # (`share.standing`): {executor_class: {"entitled", "in_use", "total"}} (docs/market.md).
    share = models.JSONField(default=dict, blank=True)
    share_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"miner {self.hotkey} @ {self.address or '-'}"


class MinerIncident(models.Model):
    """An infrastructure failure blamed on a miner; recent ones push it down the routing order."""

    miner = models.ForeignKey(Miner, on_delete=models.CASCADE, related_name="incidents")
    job_uuid = models.UUIDField()
    reason = models.CharField(max_length=64)
    at = models.DateTimeField(auto_now_add=True, db_index=True)


class OrganicJob(models.Model):
    uuid = models.UUIDField(primary_key=True)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=JobStatus.PENDING)
    spec = models.JSONField()
    miner = models.ForeignKey(Miner, null=True, blank=True, on_delete=models.SET_NULL)
    attempts = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    exit_code = models.IntegerField(null=True, blank=True)
    executor_seconds = models.FloatField(null=True, blank=True)  # min(miner's report, observed)
    reported_seconds = models.FloatField(null=True, blank=True)  # what the miner claimed
    observed_seconds = models.FloatField(null=True, blank=True)  # started → ended, as the validator saw it
    failure_kind = models.CharField(max_length=16, blank=True, default="")
    failure_reason = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.uuid} ({self.status})"


class OrganicJobEvent(models.Model):
    """Append-only history of what happened to a job on this validator, across miners."""

    job = models.ForeignKey(OrganicJob, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=16, choices=STATUS_CHOICES)
    miner_hotkey = models.CharField(max_length=64, blank=True, default="")
    detail = models.TextField(blank=True, default="")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class FacilitatorOutbox(models.Model):
    """Status updates owed to the facilitator, kept until sent so a dropped link loses none."""

    # Null for storage messages (object.stored, object.failed, ...): they belong to no job.
    job = models.ForeignKey(OrganicJob, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]


class MinerManifest(models.Model):
    """A manifest as a miner sent it; each cycle keeps the one it used (claims, not facts)."""

    miner = models.ForeignKey(Miner, on_delete=models.CASCADE, related_name="manifests")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    payload = models.JSONField()  # the ManifestMessage as received
    totals = models.JSONField(default=dict)  # {executor_class: executors} over all hosts
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"manifest of {self.miner.hotkey} at {self.received_at:%Y-%m-%d %H:%M}"


class BenchmarkCycle(models.Model):
    """One benchmark run of this validator; claimed by inserting (number, kind), which is unique.
    A "cycle" challenges every miner at once; a "newcomers" run, between cycles, only miners this
    validator never benchmarked (with extended deadlines)."""

    class Kind(models.TextChoices):
        CYCLE = "cycle"
        NEWCOMERS = "newcomers"

    number = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CYCLE)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Revealed once the cycle is over, so anyone holding the checks can audit them.
    secret = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-number", "kind"]
        constraints = [models.UniqueConstraint(fields=["number", "kind"], name="benchmark_cycle_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.number}"


class MinerCycle(models.Model):
    """A miner's part in a cycle: the manifest it was held to, and whether it was new to us."""

    cycle = models.ForeignKey(BenchmarkCycle, on_delete=models.CASCADE, related_name="miners")
    miner = models.ForeignKey(Miner, on_delete=models.CASCADE, related_name="cycles")
    manifest = models.ForeignKey(MinerManifest, null=True, blank=True, on_delete=models.SET_NULL)
    newcomer = models.BooleanField(default=False)
    reason = models.CharField(max_length=32, blank=True, default="")  # why it was not benchmarked
    detail = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cycle", "miner"], name="miner_cycle_unique")]


class BenchmarkCheck(models.Model):
    """One check of one executor (or, with benchmark "manifest", of one host) in one cycle."""

    class Benchmark(models.TextChoices):
        POW = "pow"
        MATMUL = "matmul"
        MANIFEST = "manifest"

    cycle = models.ForeignKey(BenchmarkCycle, on_delete=models.CASCADE, related_name="checks")
    miner = models.ForeignKey(Miner, on_delete=models.CASCADE, related_name="checks")
    executor = models.CharField(max_length=160)  # host/class/index, or the host for manifest checks
    executor_class = models.CharField(max_length=64)
    benchmark = models.CharField(max_length=16, choices=Benchmark.choices)
    passed = models.BooleanField()
    reason = models.CharField(max_length=32, db_index=True)
    detail = models.TextField(blank=True, default="")
    seconds = models.FloatField(null=True, blank=True)  # the validator's own measure
    deadline_s = models.FloatField(null=True, blank=True)
    efficiency = models.FloatField(null=True, blank=True)  # class reference / measured, capped
    params = models.JSONField(default=dict)  # difficulty, n, rows opened: what was asked
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-cycle__number", "miner_id", "executor", "benchmark"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "miner", "executor", "benchmark"], name="benchmark_check_unique")
        ]
        indexes = [models.Index(fields=["miner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.benchmark} {self.executor}: {self.reason}"


class PowDifficulty(models.Model):
    """Per miner and class, the proof-of-work difficulty it is asked for, adapted within bounds."""

    miner = models.ForeignKey(Miner, on_delete=models.CASCADE, related_name="pow_difficulties")
    executor_class = models.CharField(max_length=64)
    difficulty = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["miner", "executor_class"], name="pow_difficulty_unique")]


# --- Receipts, scores and weights (docs/scoring.md).


class ReceiptRecord(models.Model):
    """A receipt both sides signed (protocol/receipts.py), from this validator's own jobs or pulled
    from a miner's `GET /api/v1/receipts/`. (kind, job, index, miner) is unique: a receipt is counted
    once (a job retried on another miner has receipts from each)."""

    class Source(models.TextChoices):
        OWN = "own"  # signed here and countersigned by the miner
        PULLED = "pulled"  # read from the miner's receipt endpoint and verified

    kind = models.CharField(max_length=16)
    job_uuid = models.UUIDField()
    index = models.PositiveIntegerField(default=0)  # interval number; 0 for other kinds
    miner = models.ForeignKey(Miner, on_delete=models.CASCADE, related_name="receipts")
    validator_hotkey = models.CharField(max_length=64)
    executor_class = models.CharField(max_length=64)
    job_kind = models.CharField(max_length=16, default="organic")
    at = models.DateTimeField()  # the payload's signing time
    seconds = models.FloatField(null=True, blank=True)  # interval and job_finished receipts
    outcome = models.CharField(max_length=16, blank=True, default="")  # job_finished receipts
    payload = models.JSONField()
    validator_signature = models.CharField(max_length=200)
    miner_signature = models.CharField(max_length=200)
    digest = models.CharField(max_length=64)  # sha256 of the canonical payload: replays differ here
    source = models.CharField(max_length=8, choices=Source.choices)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "job_uuid", "index", "miner"], name="receipt_record_unique")
        ]
        indexes = [models.Index(fields=["miner", "at"]), models.Index(fields=["job_uuid"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.job_uuid}#{self.index}"


class ReceiptCursor(models.Model):
    """Where this validator's pulls of one miner's receipts stand, and how the last one went."""

    miner = models.OneToOneField(Miner, on_delete=models.CASCADE, related_name="receipt_cursor")
    cursor = models.CharField(max_length=200, blank=True, default="")  # the miner's `next`, opaque
    pulled_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)  # consecutive failed pulls
    last_reason = models.CharField(max_length=32, blank=True, default="")
    last_detail = models.CharField(max_length=500, blank=True, default="")


class ReceiptPull(models.Model):
    """One pull of one miner's receipts: one row per miner per pull, whatever it returned."""

    miner = models.ForeignKey(Miner, on_delete=models.CASCADE, related_name="receipt_pulls")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    pages = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    refused = models.JSONField(default=dict)  # {ReceiptRefusal: count}
    failure = models.CharField(max_length=32, blank=True, default="")  # "" or why the pull stopped
    detail = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["miner", "-started_at"])]


class MinerDecline(models.Model):
    """A reservation a miner declined (organic or benchmark), kept to judge "busy" claims against
    every validator's receipts of what the miner was running at that moment."""

    miner = models.ForeignKey(Miner, on_delete=models.CASCADE, related_name="declines")
    job_uuid = models.UUIDField(null=True, blank=True)
    executor_class = models.CharField(max_length=64)
    reason = models.CharField(max_length=32)
    at = models.DateTimeField(db_index=True)


class ScoringCycle(models.Model):
    """The scores of one cycle (same numbering as benchmark cycles), over [window_start, window_end).
    Claimed by inserting the number; `finished_at` set once every miner's score is stored."""

    number = models.BigIntegerField(unique=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"scoring cycle {self.number}"


class MinerScore(models.Model):
    """One miner's score in one cycle with every input that produced it (so it can be explained):
    `classes` [{executor_class, claimed, verified, value, efficiency, multiplier, organic_seconds,
    benchmark_seconds, points}], `penalties` [{reason, detail, executor_class, factor}]."""

    cycle = models.ForeignKey(ScoringCycle, on_delete=models.CASCADE, related_name="scores")
    hotkey = models.CharField(max_length=64)
    coldkey = models.CharField(max_length=64, blank=True, default="")
    points = models.FloatField()  # Σ classes' points, before coldkey grouping
    score = models.FloatField()  # after coldkey grouping: what weights are made of
    classes = models.JSONField(default=list)
    penalties = models.JSONField(default=list)
    grouping = models.JSONField(default=dict)  # {coldkey_points, share, main_hotkey}

    class Meta:
        ordering = ["cycle", "-score", "hotkey"]
        constraints = [models.UniqueConstraint(fields=["cycle", "hotkey"], name="miner_score_unique")]


class WeightSubmission(models.Model):
    """The weights made of a cycle's scores and what became of them on chain (one per cycle)."""

    class Status(models.TextChoices):
        PENDING = "pending"  # scored; not yet accepted by the chain (retried each tick)
        COMMITTED = "committed"  # commit-reveal: committed, the reveal is due
        REVEALED = "revealed"
        SET = "set"  # set directly (the subnet has no commit-reveal)
        SKIPPED = "skipped"  # this cycle's weights never reached the chain; `reason` says why

    cycle = models.OneToOneField(ScoringCycle, on_delete=models.CASCADE, related_name="weights")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    values = models.JSONField(default=dict)  # {hotkey: normalised weight}
    block = models.PositiveBigIntegerField(null=True, blank=True)
    commit_hash = models.CharField(max_length=66, blank=True, default="")  # chain.WeightCommit's
    attempts = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=500, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"weights of cycle {self.cycle.number}: {self.status}"


class StoredObject(models.Model):
    """The validator's record of one object: how it was encrypted and erasure-coded (never its bytes)."""

    class Status(models.TextChoices):
        PLACING = "placing"
        STORED = "stored"
        FAILED = "failed"
        DELETING = "deleting"
        DELETED = "deleted"

    id = models.UUIDField(primary_key=True)  # the facilitator's object id
    size = models.BigIntegerField()  # plaintext bytes
    sha256 = models.CharField(max_length=64)  # of the plaintext
    ciphertext_size = models.BigIntegerField()
    wrapped_key = models.BinaryField()  # protocol.storage.envelope.key_wrap(key, secret=...)
    k = models.PositiveSmallIntegerField()
    n = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLACING)
    created_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)  # every live share last passed an audit

    def __str__(self) -> str:
        return f"object {self.id} ({self.status})"


class SharePlacement(models.Model):
    """One sealed share on one miner; its id is the share_id on the wire and an input of its seal key."""

    class Status(models.TextChoices):
        PLACING = "placing"
        LIVE = "live"
        LOST = "lost"
        DELETED = "deleted"

    id = models.UUIDField(primary_key=True, default=uuid4)
    object = models.ForeignKey(StoredObject, on_delete=models.CASCADE, related_name="placements")
    index = models.PositiveSmallIntegerField()  # zfec share number 0..n-1
    miner = models.ForeignKey(Miner, on_delete=models.PROTECT, related_name="placements")
    coldkey = models.CharField(max_length=64)  # the miner's coldkey when placed
    size = models.BigIntegerField()
    chunk_bytes = models.PositiveIntegerField()
    root = models.CharField(max_length=64)  # hex Merkle root of the SEALED share
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLACING)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_audit_at = models.DateTimeField(null=True, blank=True)
    last_passed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One placing-or-live share per index: a repair places a new one only once the old is lost.
            models.UniqueConstraint(
                fields=["object", "index"],
                condition=models.Q(status__in=["placing", "live"]),
                name="share_placement_one_live_per_index",
            )
        ]

    def __str__(self) -> str:
        return f"share {self.index} of {self.object_id} on {self.miner_id} ({self.status})"


class ShareAudit(models.Model):
    """One audit of one placement (or a failed read of it), with a machine-readable reason."""

    placement = models.ForeignKey(SharePlacement, on_delete=models.CASCADE, related_name="audits")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    passed = models.BooleanField()
    reason = models.CharField(max_length=32, blank=True, default="")  # protocol.storage.audit.AuditFailure value
    detail = models.TextField(blank=True, default="")
    seconds = models.FloatField(default=0)
