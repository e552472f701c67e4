"""Public, read-only: each finished scoring cycle's scores, the inputs behind them, and the weights
made of them with their chain status."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from validator.apis.miners import PublicApi
from validator.apis.serializers import CycleSerializer
from validator.selectors.scores import cycle_report, scoring_cycles_finished


class CyclePagination(LimitOffsetPagination):
    max_limit = 100  # a page is every score of every cycle on it: keep one request bounded


class CycleListApi(PublicApi):
    pagination_class = CyclePagination  # declared, so the schema documents the paginated list

    @extend_schema(responses=CycleSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(scoring_cycles_finished(), request, view=self) or []
        return paginator.get_paginated_response(CycleSerializer([cycle_report(c) for c in page], many=True).data)


class CycleLatestApi(PublicApi):
    @extend_schema(responses={200: CycleSerializer, 404: OpenApiResponse(description="No cycle has finished yet.")})
    def get(self, request: Request) -> Response:
        cycle = scoring_cycles_finished().first()
        if cycle is None:
            raise NotFound("no scoring cycle has finished on this validator yet")
        return Response(CycleSerializer(cycle_report(cycle)).data)
