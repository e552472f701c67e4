"""Validator state: the miners it knows, the organic jobs it routes, and updates owed upstream."""

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
    executor_seconds = models.FloatField(null=True, blank=True)
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
