"""Every API error is JSON with a field and a reason: `400 {"field": ["reason"]}`, never a 500 page."""

from typing import Any

from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        return Response({"body": ["request body is too large"]}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, RecursionError):  # the JSON parser on a deeply nested body
        return Response({"body": ["malformed request body: nested too deeply"]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ParseError):
        return Response({"body": [f"malformed request body: {exc.detail}"]}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
