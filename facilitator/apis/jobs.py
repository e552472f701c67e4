"""Thin views: parse, call a service or selector, serialize."""

from typing import Any
from uuid import UUID

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from facilitator.apis.pagination import BoundedLimitOffsetPagination
from facilitator.apis.serializers import (
    InputTooLarge,
    JobCreateSerializer,
    JobListFilterSerializer,
    JobOutputSerializer,
    unknown_executor_class_message,
)
from facilitator.selectors import job_get, job_list, job_output_get
from facilitator.services.cancel import JobAlreadyFinished, job_cancel
from facilitator.services.credits import InsufficientCredits
from facilitator.services.jobs import UnknownExecutorClass, job_create
from protocol.messages.common import JobSpec


class JobListCreateApi(APIView):
    pagination_class = BoundedLimitOffsetPagination  # declared, so the schema documents the paginated list

    @extend_schema(
        parameters=[OpenApiParameter("status", str), OpenApiParameter("tag", str)],
        responses=JobOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = JobListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(job_list(user=request.user, filters=filters.validated_data), request)
        data = JobOutputSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(request=JobCreateSerializer, responses={201: JobOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = JobCreateSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except InputTooLarge as exc:
            return Response({"input": [str(exc)]}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        data = dict(serializer.validated_data)
        tag = data.pop("tag")
        try:
            job = job_create(user=request.user, spec=JobSpec.model_validate(data), tag=tag)  # type: ignore[arg-type]
        except InsufficientCredits as exc:
            return Response(
                {"credits": [str(exc)], "needed": str(exc.needed), "available": str(exc.available)},
                status=status.HTTP_402_PAYMENT_REQUIRED,
            )
        except UnknownExecutorClass as exc:  # deactivated since the serializer looked
            return Response(
                {"executor_class": [unknown_executor_class_message(str(exc))]}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(_job_out(request, job.uuid), status=status.HTTP_201_CREATED)


class JobDetailApi(APIView):
    @extend_schema(responses=JobOutputSerializer)
    def get(self, request: Request, job_uuid: UUID) -> Response:
        return Response(_job_out(request, job_uuid))


class JobCancelApi(APIView):
    @extend_schema(request=None, responses=JobOutputSerializer)
    def post(self, request: Request, job_uuid: UUID) -> Response:
        job = job_get(user=request.user, job_uuid=job_uuid)
        if job is None:
            raise NotFound("no such job")
        try:
            job_cancel(job=job)
        except JobAlreadyFinished as exc:
            return Response({"status": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(_job_out(request, job_uuid))


class JobOutputApi(APIView):
    @extend_schema(responses={(200, "application/zip"): bytes})
    def get(self, request: Request, job_uuid: UUID) -> HttpResponse:
        output = job_output_get(user=request.user, job_uuid=job_uuid)
        if output is None:
            raise NotFound("this job has no output (yet)")
        response = HttpResponse(bytes(output.zip_bytes), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{job_uuid}-output.zip"'
        return response


def _job_out(request: Request, job_uuid: UUID) -> dict[str, Any]:
    job = job_get(user=request.user, job_uuid=job_uuid)
    if job is None:
        raise NotFound("no such job")
    return dict(JobOutputSerializer(job, context={"request": request}).data)
