"""The OpenAPI schema documents the errors every operation can answer, not only its success: a
client (and schemathesis, tests/fuzz/facilitator/test_api_schema.py) may rely on each response
being one the schema names. Which errors follow from the operation itself: input → 400, a request
body → 415 too (a malformed multipart body), a path parameter → 404, authentication → 401/403, a
throttle → 429. Codes an operation declares itself (`@extend_schema(responses={402: ...})`) are
kept as declared; one of the codes above declared with a description only gets its error body."""

from typing import Any

from drf_spectacular.openapi import AutoSchema

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# `400 {"field": ["reason"]}` (facilitator/apis/errors.py); nested serializers nest the same way.
FIELD_ERRORS = {"type": "object", "additionalProperties": {}}
REASONS = {
    "400": ("The request is malformed; each field says why.", FIELD_ERRORS),
    "401": ("No valid credentials.", DETAIL),
    "403": ("Not allowed for these credentials.", DETAIL),
    "404": ("No such resource.", DETAIL),
    "415": ("The body is not in a media type this operation reads.", DETAIL),
    "429": ("Too many requests; retry after the `Retry-After` header's seconds.", DETAIL),
}


class ErrorDocumentingAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in self._error_codes(operation):
            responses.setdefault(code, {"description": REASONS[code][0]})
        for code, response in responses.items():
            if code in REASONS and "content" not in response:
                response["content"] = {"application/json": {"schema": REASONS[code][1]}}
        return operation

    def _error_codes(self, operation: dict[str, Any]) -> list[str]:
        places = {p.get("in") for p in operation.get("parameters", [])}
        codes = []
        if "requestBody" in operation or "query" in places:
            codes.append("400")
        if any(requirement for requirement in operation.get("security", [])):
            codes += ["401", "403"]
        if "path" in places:
            codes.append("404")
        if "requestBody" in operation:
            codes.append("415")
        if getattr(self.view, "throttle_classes", None):
            codes.append("429")
        return codes
