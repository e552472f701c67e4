"""Rentals on the REST API (DESIGN.md): what a user sends, and a rental as the user sees it.
A rental is a Job row of kind `rental`; its status is the job's, in a rental's words."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from executor.selectors import executor_class_is_active
from facilitator.apis.serializers import (
    FailureSerializer,
    StatusEventSerializer,
    StrictCharField,
    unknown_executor_class_message,
)
from protocol.messages.common import MAX_RENTAL_SECONDS
from protocol.messages.jobs import JobStatus
from protocol.ssh_keys import ssh_public_key_normalised

RENTAL_STATUS = {
    JobStatus.PENDING: "pending",
    JobStatus.DISPATCHED: "pending",
    JobStatus.RUNNING: "active",
    JobStatus.COMPLETED: "ended",
    JobStatus.TIMEOUT: "ended",  # its time was up: the normal end
    JobStatus.CANCELLED: "ended",
    JobStatus.FAILED: "failed",
    JobStatus.REJECTED: "failed",
}


def rental_status(job_status: str) -> str:
    return RENTAL_STATUS.get(JobStatus(job_status), "failed")


class RentalCreateSerializer(serializers.Serializer[Any]):
    executor_class = StrictCharField(max_length=64)
    duration_s = serializers.IntegerField(
        help_text="How long the machine is rented, 60 s to 60 days; it is removed when the time is up."
    )
    ssh_public_key = StrictCharField(
        max_length=8192, help_text="One OpenSSH public key line (ssh-ed25519, ecdsa-sha2-*, ssh-rsa ≥ 2048 bits)."
    )

    def validate_executor_class(self, value: str) -> str:
        if not executor_class_is_active(name=value):
            raise serializers.ValidationError(unknown_executor_class_message(value))
        return value

    def validate_duration_s(self, value: int) -> int:
        low = settings.RENTAL_MIN_SECONDS
        if not low <= value <= MAX_RENTAL_SECONDS:
            raise serializers.ValidationError(f"must be between {low} and {MAX_RENTAL_SECONDS} seconds (60 days)")
        return value

    def validate_ssh_public_key(self, value: str) -> str:
        try:
            return ssh_public_key_normalised(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class SshSerializer(serializers.Serializer[Any]):
    host = serializers.CharField()
    port = serializers.IntegerField()
    user = serializers.CharField()


class RentalEventSerializer(StatusEventSerializer):
    """A status event, its status in a rental's words."""

    status = serializers.SerializerMethodField()  # type: ignore[assignment]

    def get_status(self, event: Any) -> str:
        return rental_status(event.status)


class RentalOutputSerializer(serializers.Serializer[Any]):
    uuid = serializers.UUIDField()
    status = serializers.SerializerMethodField()
    executor_class = serializers.CharField()
    duration_s = serializers.IntegerField(source="timeout_s")
    ssh = serializers.SerializerMethodField()
    ssh_public_key = serializers.CharField()
    miner_hotkey = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.SerializerMethodField()
    finished_at = serializers.DateTimeField(allow_null=True)
    cost = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    charged = serializers.DecimalField(max_digits=20, decimal_places=6, read_only=True)
    status_history = RentalEventSerializer(many=True, source="history.all")
    failure = serializers.SerializerMethodField()

    def get_status(self, job: Any) -> str:
        return rental_status(job.status)

    @extend_schema_field(SshSerializer(allow_null=True))
    def get_ssh(self, job: Any) -> dict[str, Any] | None:
        if job.status != JobStatus.RUNNING or not job.ssh_port:
            return None
        return {"host": job.ssh_host, "port": job.ssh_port, "user": job.ssh_user}

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_expires_at(self, job: Any) -> str | None:
        if job.started_at is None:
            return None
        return serializers.DateTimeField().to_representation(job.started_at + timedelta(seconds=job.timeout_s))

    @extend_schema_field(FailureSerializer(allow_null=True))
    def get_failure(self, job: Any) -> dict[str, str] | None:
        if not job.failure_kind or job.status == JobStatus.TIMEOUT:
            return None
        return {"kind": job.failure_kind, "reason": job.failure_reason, "detail": job.failure_detail}
