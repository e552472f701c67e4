"""Public, read-only: what each miner claims and what this validator verified of it."""

from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from validator.apis.serializers import MinerDetailSerializer, MinerSerializer
from validator.selectors import miner_report_get, miner_report_list


class PublicApi(APIView):
    authentication_classes = []  # anyone may audit a validator: no token, no session, no CSRF
    permission_classes = [AllowAny]


class MinerListApi(PublicApi):
    @extend_schema(responses=MinerSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(MinerSerializer(miner_report_list(), many=True).data)


class MinerDetailApi(PublicApi):
    @extend_schema(responses=MinerDetailSerializer)
    def get(self, request: Request, hotkey: str) -> Response:
        report = miner_report_get(hotkey=hotkey)
        if report is None:
            raise NotFound(f"no miner {hotkey!r} is known to this validator")
        return Response(MinerDetailSerializer(report).data)
