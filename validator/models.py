"""Validator state: the miners it knows, the organic jobs it routes, updates owed upstream, and
what it verified: manifests, benchmark cycles and their checks."""

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

    job = models.ForeignKey(OrganicJob, on_delete=models.CASCADE, related_name="outbox")
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
