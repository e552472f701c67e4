from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from executor.selectors import executor_class_list
from facilitator.apis.serializers import ExecutorClassSerializer
from facilitator.selectors.figures import executor_classes_willing


class ExecutorClassListApi(APIView):
    @extend_schema(responses=ExecutorClassSerializer(many=True))
    def get(self, request: Request) -> Response:
        classes = executor_class_list()
        context = {"willing": executor_classes_willing()}
        return Response(ExecutorClassSerializer(classes, many=True, context=context).data)
