"""`GET /api/v1/account/`: the caller's credits. An extension of DESIGN.md's API: users need to
see what they have before they submit and what a job cost them after."""

from typing import Any, cast

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from facilitator.selectors import credit_balance_get


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
