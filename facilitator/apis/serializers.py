"""Input validation for jobs: every rejection names the field and the reason."""

import base64
import binascii
import re
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from executor.models import ExecutorClass
from executor.selectors import executor_class_is_active
from protocol.input_urls import BadInputUrl, input_url_parse
from protocol.messages.jobs import JobStatus
from protocol.tunables import tunable

IMAGE_RE = re.compile(r"^[a-z0-9]+([._/-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$")
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class InputTooLarge(Exception):
    pass


def unknown_executor_class_message(name: str) -> str:
    return f"unknown executor class {name!r}; see /api/v1/executor-classes/"


class StrictCharField(serializers.CharField):
    """A JSON string, not a number or boolean that happens to print as one."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class JobCreateSerializer(serializers.Serializer[Any]):
    image = StrictCharField(max_length=255)
    args = serializers.ListField(
        child=StrictCharField(max_length=16384, allow_blank=True, trim_whitespace=False),
        max_length=256,
        default=list,
    )
    env = serializers.DictField(
        child=StrictCharField(max_length=16384, allow_blank=True, trim_whitespace=False), default=dict
    )
    executor_class = StrictCharField(max_length=64, required=False)
    timeout_s = serializers.IntegerField(min_value=1, max_value=86400, default=600)
    input = serializers.JSONField(required=False, allow_null=True, default=None)
    tag = StrictCharField(max_length=255, required=False, allow_blank=True, default="")

    def validate_image(self, value: str) -> str:
        if not IMAGE_RE.match(value):
            raise serializers.ValidationError("not a valid image reference (e.g. meshwork/job-python:3.11)")
        return value

    def validate_env(self, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 128:
            raise serializers.ValidationError("at most 128 variables")
        bad = [k for k in value if not ENV_KEY_RE.match(k)]
        if bad:
            raise serializers.ValidationError(f"invalid variable name(s): {', '.join(sorted(bad)[:5])}")
        return value

    def validate_executor_class(self, value: str) -> str:
        if not executor_class_is_active(name=value):
            raise serializers.ValidationError(unknown_executor_class_message(value))
        return value

    def validate_input(self, value: Any) -> dict[str, str] | None:
        if value is None:
            return None
        if not isinstance(value, dict) or len(value) != 1 or not ({"zip_b64", "url"} & value.keys()):
            raise serializers.ValidationError('expected {"zip_b64": "..."} or {"url": "..."} or null')
        if "url" in value:
            url = value["url"]
            if not isinstance(url, str):
                raise serializers.ValidationError("url must be an http(s) URL string")
            try:  # syntax only: the miner judges the address when it fetches
                input_url_parse(url)
            except BadInputUrl as exc:
                raise serializers.ValidationError(f"url must be an http(s) URL: {exc.detail}") from exc
            return {"kind": "url", "url": url}
        blob = value["zip_b64"]
        if not isinstance(blob, str):
            raise serializers.ValidationError("zip_b64 must be a base64 string")
        limit = tunable("FACILITATOR_MAX_INPUT_BYTES")
        if len(blob) * 3 // 4 > limit:
            raise InputTooLarge(f"input is larger than {limit} bytes")
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise serializers.ValidationError("zip_b64 is not valid base64") from exc
        if not raw.startswith(b"PK"):
            raise serializers.ValidationError("zip_b64 does not decode to a zip archive")
        return {"kind": "zip_b64", "zip_b64": blob}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("executor_class", settings.DEFAULT_EXECUTOR_CLASS)
        return attrs


class JobListFilterSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=[s.value for s in JobStatus], required=False)
    tag = serializers.CharField(max_length=255, required=False)


class StatusEventSerializer(serializers.Serializer[Any]):
    status = serializers.CharField()
    at = serializers.DateTimeField()
    detail = serializers.CharField()


class FailureSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField()
    reason = serializers.CharField()
    detail = serializers.CharField()


class JobOutputSerializer(serializers.Serializer[Any]):
    uuid = serializers.UUIDField()
    status = serializers.CharField()
    status_history = StatusEventSerializer(many=True, source="history.all")
    image = serializers.CharField()
    args = serializers.ListField(child=serializers.CharField())
    tag = serializers.CharField()
    timeout_s = serializers.IntegerField()
    exit_code = serializers.IntegerField(allow_null=True)
    stdout = serializers.CharField()
    stderr = serializers.CharField()
    # An extension of DESIGN.md's job: how much each stream held, and whether stdout/stderr were cut.
    stdout_bytes = serializers.IntegerField(allow_null=True, help_text="Bytes the job wrote to stdout.")
    stderr_bytes = serializers.IntegerField(allow_null=True, help_text="Bytes the job wrote to stderr.")
    stdout_truncated = serializers.BooleanField(help_text="stdout holds only its head, ending with a marker.")
    stderr_truncated = serializers.BooleanField(help_text="stderr holds only its head, ending with a marker.")
    output_url = serializers.SerializerMethodField()
    executor_class = serializers.CharField()
    miner_hotkey = serializers.CharField()
    validator_hotkey = serializers.CharField()
    executor_seconds = serializers.FloatField(allow_null=True)
    cost = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    # An extension of DESIGN.md's job: credits charged so far (per interval while it runs; its cost once it ended).
    charged = serializers.DecimalField(
        max_digits=20, decimal_places=6, read_only=True, help_text="Credits charged so far; the cost once it ended."
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    failure = serializers.SerializerMethodField()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_output_url(self, job: Any) -> str | None:
        # `has_output` is annotated by the job selectors, so listing never loads output bytes.
        if not getattr(job, "has_output", False):
            return None
        request = self.context.get("request")
        path = f"/api/v1/jobs/{job.uuid}/output/"
        return request.build_absolute_uri(path) if request else path

    @extend_schema_field(FailureSerializer(allow_null=True))
    def get_failure(self, job: Any) -> dict[str, str] | None:
        if not job.failure_kind:
            return None
        return {"kind": job.failure_kind, "reason": job.failure_reason, "detail": job.failure_detail}


class ExecutorClassSerializer(serializers.ModelSerializer[ExecutorClass]):
    # Miners (and their verified executors) willing at the current price, as the connected
    # validators last counted them (docs/market.md); null until one reported it.
    willing_miners = serializers.SerializerMethodField()
    willing_executors = serializers.SerializerMethodField()

    def get_willing_miners(self, obj: ExecutorClass) -> int | None:
        figures = self.context.get("willing", {}).get(obj.name)
        return None if figures is None else int(figures["willing_miners"])

    def get_willing_executors(self, obj: ExecutorClass) -> int | None:
        figures = self.context.get("willing", {}).get(obj.name)
        return None if figures is None else int(figures["willing_executors"])

    class Meta:
        model = ExecutorClass
        fields = [
            "name",
            "description",
            "cpus",
            "memory_mb",
            "pids",
            "output_mb",
            "gpu",
            "price_per_second",
            "weight",
            "gpu_count",
            "gpu_model",
            "gpu_memory_mb",
            "spin_up_s",
            "matmul_n",
            "pow_difficulty",
            "pow_count",
            "reference_seconds",
            "willing_miners",
            "willing_executors",
        ]
