"""`/api/v1/rentals/` (DESIGN.md, docs/rentals.md): rent a machine, list and read rentals, end one."""

from typing import Any
from uuid import UUID

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from facilitator.apis.pagination import BoundedLimitOffsetPagination
from facilitator.apis.rental_serializers import RentalCreateSerializer, RentalOutputSerializer, rental_status
from facilitator.apis.serializers import unknown_executor_class_message
from facilitator.models import Job
from facilitator.selectors import job_get, job_list
from facilitator.services.cancel import JobAlreadyFinished, job_cancel
from facilitator.services.credits import InsufficientCredits
from facilitator.services.jobs import UnknownExecutorClass, job_create
from protocol.messages.common import JobSpec, RentalSpec


class RentalListCreateApi(APIView):
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(responses=RentalOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(job_list(user=request.user, kind=Job.Kind.RENTAL), request)
        return paginator.get_paginated_response(RentalOutputSerializer(page, many=True).data)

    @extend_schema(request=RentalCreateSerializer, responses={201: RentalOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = RentalCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        spec = JobSpec(
            image=settings.RENTAL_IMAGE,
            executor_class=data["executor_class"],
            timeout_s=data["duration_s"],
            rental=RentalSpec(ssh_public_key=data["ssh_public_key"]),
        )
        try:
            job = job_create(user=request.user, spec=spec)  # type: ignore[arg-type]
        except InsufficientCredits as exc:
            return Response(
                {"credits": [str(exc).replace("this job", "this rental")], "needed": str(exc.needed),
                 "available": str(exc.available)},
                status=status.HTTP_402_PAYMENT_REQUIRED,
            )  # fmt: skip
        except UnknownExecutorClass as exc:
            return Response(
                {"executor_class": [unknown_executor_class_message(str(exc))]}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(_rental_out(request, job.uuid), status=status.HTTP_201_CREATED)


class RentalDetailApi(APIView):
    @extend_schema(responses=RentalOutputSerializer)
    def get(self, request: Request, rental_uuid: UUID) -> Response:
        return Response(_rental_out(request, rental_uuid))

    @extend_schema(request=None, responses=RentalOutputSerializer)
    def delete(self, request: Request, rental_uuid: UUID) -> Response:
        """Ends the rental: its machine is removed; it is billed up to now."""
        job = job_get(user=request.user, job_uuid=rental_uuid, kind=Job.Kind.RENTAL)
        if job is None:
            raise NotFound("no such rental")
        try:
            job_cancel(job=job)
        except JobAlreadyFinished:
            detail = f"this rental has already {rental_status(job.status)}"
            return Response({"status": [detail]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(_rental_out(request, rental_uuid))


def _rental_out(request: Request, rental_uuid: UUID) -> dict[str, Any]:
    job = job_get(user=request.user, job_uuid=rental_uuid, kind=Job.Kind.RENTAL)
    if job is None:
        raise NotFound("no such rental")
    return dict(RentalOutputSerializer(job).data)
