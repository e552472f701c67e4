"""Public, read-only: this miner's receipts, both signatures each, for every validator to pull and
verify (DESIGN.md, "Miner API"; protocol.receipts.ReceiptPage). Oldest first by id; `next` is an
opaque cursor (urlsafe base64 of the last id served) while more rows follow, null on the last page."""

import base64
import binascii
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from miner.models import MinerReceipt
from miner.selectors import receipts_served
from protocol.receipts import Receipt, ReceiptKind, ReceiptPage


def cursor_encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    return int(text) if text.isdigit() and len(text) <= 18 else None


class ReceiptQuerySerializer(serializers.Serializer[Any]):
    since = serializers.DateTimeField(required=False, help_text="only receipts stored at or after this (ISO 8601)")
    cursor = serializers.CharField(required=False, max_length=200, help_text="the `next` of the previous page")

    def validate_cursor(self, value: str) -> int:
        last_id = cursor_decode(value)
        if last_id is None:
            raise serializers.ValidationError("not a cursor this miner issued")
        return last_id


class ReceiptSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=[k.value for k in ReceiptKind])
    job_uuid = serializers.UUIDField()
    validator_hotkey = serializers.CharField()
    miner_hotkey = serializers.CharField()
    payload = serializers.DictField()
    validator_signature = serializers.CharField()
    miner_signature = serializers.CharField()


class ReceiptPageSerializer(serializers.Serializer[Any]):
    results = ReceiptSerializer(many=True)
    next = serializers.CharField(allow_null=True)


def _receipt(row: MinerReceipt) -> Receipt:
    return Receipt(
        kind=ReceiptKind(row.kind),
        job_uuid=row.job_uuid,
        validator_hotkey=row.validator_hotkey,
        miner_hotkey=str(row.payload["miner_hotkey"]),
        payload=row.payload,
        validator_signature=row.validator_signature,
        miner_signature=row.miner_signature,
    )


class ReceiptListApi(APIView):
    authentication_classes = []  # any validator (or anyone) may audit a miner's receipts
    permission_classes = [AllowAny]

    @extend_schema(parameters=[ReceiptQuerySerializer], responses=ReceiptPageSerializer)
    def get(self, request: Request) -> Response:
        query = ReceiptQuerySerializer(data=request.query_params)
        if not query.is_valid():
            return Response(query.errors, status=400)
        size = settings.MINER_RECEIPTS_PAGE_SIZE
        rows = receipts_served(
            after_id=query.validated_data.get("cursor", 0), since=query.validated_data.get("since"), limit=size + 1
        )
        more = len(rows) > size
        rows = rows[:size]
        page = ReceiptPage(results=[_receipt(r) for r in rows], next=cursor_encode(rows[-1].id) if more else None)
        return Response(page.model_dump(mode="json"))
