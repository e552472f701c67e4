"""Storage REST (DESIGN.md "Storage"; docs/storage.md): the list, one object's metadata and its
delete, as DRF views. The upload and the download wait on the validator and are async views
(facilitator/apis/object_io.py)."""

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from facilitator.apis.pagination import BoundedLimitOffsetPagination
from facilitator.models import StoredObject
from facilitator.selectors import object_get, objects_list
from facilitator.services.objects import object_delete


class ObjectHealthSerializer(serializers.Serializer[Any]):
    shares = serializers.IntegerField(help_text="shares placed and live now")
    needed = serializers.IntegerField(help_text="shares needed to read the object (k)")
    placed = serializers.IntegerField(help_text="shares the object is meant to have (n)")
    verified_at = serializers.DateTimeField(allow_null=True, help_text="when every live share last passed an audit")


class ObjectOutputSerializer(serializers.ModelSerializer[StoredObject]):
    health = serializers.SerializerMethodField()

    class Meta:
        model = StoredObject
        fields = ["id", "name", "size", "sha256", "created_at", "status", "health"]

    @extend_schema_field(ObjectHealthSerializer)
    def get_health(self, obj: StoredObject) -> dict[str, Any]:
        return {"shares": obj.shares, "needed": obj.needed, "placed": obj.placed, "verified_at": obj.verified_at}


def object_out(obj: StoredObject) -> dict[str, Any]:
    return dict(ObjectOutputSerializer(obj).data)


class ObjectListApi(APIView):
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(responses=ObjectOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(objects_list(user=request.user), request)  # type: ignore[arg-type]
        return paginator.get_paginated_response(ObjectOutputSerializer(page, many=True).data)


class ObjectDetailApi(APIView):
    @extend_schema(responses=ObjectOutputSerializer)
    def get(self, request: Request, object_id: UUID) -> Response:
        return Response(object_out(_own(request, object_id)))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, object_id: UUID) -> Response:
        object_delete(obj=_own(request, object_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _own(request: Request, object_id: UUID) -> StoredObject:
    obj = object_get(user=request.user, object_id=object_id)  # type: ignore[arg-type]
    if obj is None:
        raise NotFound("no such object")
    return obj
