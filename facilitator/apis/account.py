"""`GET /api/v1/account/`: the caller's credits. An extension of DESIGN.md's API: users need to
see what they have before they submit and what a job cost them after. `GET
/api/v1/account/history/`: the caller's ledger, newest first (DESIGN.md)."""

from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from facilitator.apis.pagination import BoundedLimitOffsetPagination
from facilitator.models import CreditKind
from facilitator.selectors import credit_balance_get, credit_history


class AccountSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    balance = serializers.DecimalField(max_digits=20, decimal_places=6)
    held = serializers.DecimalField(max_digits=20, decimal_places=6)
    available = serializers.DecimalField(max_digits=20, decimal_places=6)


class AccountApi(APIView):
    @extend_schema(responses=AccountSerializer)
    def get(self, request: Request) -> Response:
        balance, held = credit_balance_get(user=cast(User, request.user))
        data = {"username": request.user.get_username(), "balance": balance, "held": held, "available": balance - held}
        return Response(AccountSerializer(data).data)


class LedgerFilterSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=CreditKind.values, required=False)


class LedgerRowSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    # Credits added (grant, topup) or charged (the other kinds; a refund is a negative charge).
    amount = serializers.DecimalField(max_digits=20, decimal_places=6)
    note = serializers.CharField()
    job = serializers.UUIDField(source="job_id", allow_null=True)
    created_at = serializers.DateTimeField()
    balance_after = serializers.DecimalField(max_digits=20, decimal_places=6)


class AccountHistoryApi(APIView):
    pagination_class = BoundedLimitOffsetPagination  # declared, so the schema documents the paginated list

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, enum=CreditKind.values)], responses=LedgerRowSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        filters = LedgerFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = credit_history(user=cast(User, request.user), kind=filters.validated_data.get("kind"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request)
        return paginator.get_paginated_response(LedgerRowSerializer(page, many=True).data)
