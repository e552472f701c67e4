"""Miner state: who may send jobs, the executor hosts (their slots and specs), accepted jobs and
the manifest last published to validators."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models


class AccessRule(models.Model):
    """Hotkey/coldkey black- and whitelists, edited in the admin. With any whitelist rule of a
    kind present, only listed keys of that kind are admitted."""

    class Kind(models.TextChoices):
        HOTKEY = "hotkey"
        COLDKEY = "coldkey"

    class List(models.TextChoices):
        BLACKLIST = "blacklist"
        WHITELIST = "whitelist"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    list = models.CharField(max_length=9, choices=List.choices)
    key = models.CharField(max_length=64)
    note = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "list", "key"], name="access_rule_unique")]

    def __str__(self) -> str:
        return f"{self.list} {self.kind} {self.key}"


class KnownValidator(models.Model):
    """Validators on the chain, synced on a schedule so admission never waits on the chain."""

    hotkey = models.CharField(max_length=64, unique=True)
    coldkey = models.CharField(max_length=64, blank=True, default="")
    stake = models.BigIntegerField(default=0)
    synced_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"validator {self.hotkey} (stake {self.stake})"


class ExecutorHost(models.Model):
    """A Docker engine that runs this miner's job containers: `local` or a DOCKER_HOST URL."""

    name = models.CharField(max_length=64, unique=True)
    docker_url = models.CharField(max_length=255)

    def __str__(self) -> str:
        return f"{self.name} ({self.docker_url})"


class ExecutorSlot(models.Model):
    """One executor of a class on a host. A job claims a free slot by conditional update."""

    host = models.ForeignKey(ExecutorHost, on_delete=models.CASCADE, related_name="slots")
    executor_class = models.CharField(max_length=64)
    index = models.PositiveIntegerField()
    job_uuid = models.UUIDField(null=True, blank=True, unique=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Whose organic job holds it (its stake-proportional share counts it); "" when free or benchmarking.
    validator_hotkey = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["host", "executor_class", "index"], name="executor_slot_unique")]

    def __str__(self) -> str:
        return f"{self.host.name}/{self.executor_class}#{self.index}"


class ClassPriceFloor(models.Model):
    """The least price (credits per executor-second, the catalogue's unit) at which this miner takes
    jobs of a class; below it reservations are declined `unprofitable` (docs/market.md)."""

    executor_class = models.CharField(max_length=64, unique=True)
    min_price = models.DecimalField(max_digits=18, decimal_places=6, validators=[MinValueValidator(Decimal(0))])

    def __str__(self) -> str:
        return f"{self.executor_class} from {self.min_price}/s"


class ShareDemand(models.Model):
    """When a validator last asked for an executor of a class: the free executors are kept for the
    unused shares of validators that asked within MINER_SHARE_WINDOW_S (docs/market.md)."""

    validator_hotkey = models.CharField(max_length=64)
    executor_class = models.CharField(max_length=64)
    asked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["validator_hotkey", "executor_class"], name="share_demand_unique")
        ]

    def __str__(self) -> str:
        return f"{self.validator_hotkey} asked for {self.executor_class} at {self.asked_at:%H:%M:%S}"


class HostSpecsRecord(models.Model):
    """A host's specs (protocol HostSpecs as JSON), collected at start-up and on a schedule so a
    manifest never waits on a Docker engine. `error` says what the last collection could not read."""

    host = models.OneToOneField(ExecutorHost, on_delete=models.CASCADE, related_name="specs_record")
    specs = models.JSONField(default=dict)
    error = models.CharField(max_length=500, blank=True, default="")
    collected_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"specs of {self.host.name}"


class PublishedManifest(models.Model):
    """The manifest validators were last sent (one row). Kept so the rate limit on additions
    survives restarts; `published_at` is when a manifest last went out in full."""

    payload = models.JSONField()
    published_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"manifest published {self.published_at:%Y-%m-%d %H:%M}"


class AcceptedJob(models.Model):
    class Kind(models.TextChoices):
        ORGANIC = "organic"
        BENCHMARK = "benchmark"

    class Status(models.TextChoices):
        RESERVED = "reserved"
        RUNNING = "running"
        FINISHED = "finished"
        FAILED = "failed"
        CANCELLED = "cancelled"

    uuid = models.UUIDField(primary_key=True)
    kind = models.CharField(max_length=9, choices=Kind.choices, default=Kind.ORGANIC)
    validator_hotkey = models.CharField(max_length=64)
    executor_class = models.CharField(max_length=64)
    image = models.CharField(max_length=255)
    host_name = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RESERVED)
    exit_code = models.IntegerField(null=True, blank=True)
    executor_seconds = models.FloatField(null=True, blank=True)
    failure_reason = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.uuid} ({self.status})"


class MinerReceipt(models.Model):
    """A receipt about one of this miner's jobs (protocol/receipts.py). Served to every validator by
    `GET /api/v1/receipts/` once both signatures are here; the id orders them (the cursor)."""

    kind = models.CharField(max_length=16)
    job_uuid = models.UUIDField()
    index = models.PositiveIntegerField(default=0)
    validator_hotkey = models.CharField(max_length=64)
    payload = models.JSONField()
    validator_signature = models.CharField(max_length=200, blank=True, default="")
    miner_signature = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "job_uuid", "index"], name="miner_receipt_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.job_uuid}#{self.index}"


class StorageVolume(models.Model):
    """Disk space this miner sells on one executor host: a directory and a capacity (in the admin;
    MINER_STORAGE_DIR / MINER_STORAGE_CAPACITY_BYTES seed the first host). A claim until
    validators' audits prove what they stored on it."""

    host = models.OneToOneField(ExecutorHost, on_delete=models.PROTECT, related_name="storage")
    directory = models.CharField(max_length=500)
    capacity_bytes = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.capacity_bytes} bytes in {self.directory} on {self.host.name}"


class StorageAllocation(models.Model):
    """A validator's share of the capacity, in proportion to its stake (recomputed whenever the
    validator list syncs). Used bytes are counted from StoredShare, never kept here."""

    validator_hotkey = models.CharField(max_length=64, unique=True)
    stake = models.BigIntegerField(default=0)
    quota_bytes = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.validator_hotkey}: {self.quota_bytes} bytes"


class StoredShare(models.Model):
    """One sealed share a validator placed here; its bytes are a file on the volume, its chunk
    leaves a sidecar file beside it (audits never reread the whole share)."""

    share_id = models.UUIDField(primary_key=True)
    validator_hotkey = models.CharField(max_length=64, db_index=True)
    volume = models.ForeignKey(StorageVolume, on_delete=models.PROTECT, related_name="shares")
    size = models.BigIntegerField()
    chunk_bytes = models.PositiveIntegerField()
    root = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"share {self.share_id} of {self.validator_hotkey}"
