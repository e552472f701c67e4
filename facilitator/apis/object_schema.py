"""OpenAPI entries for the storage calls served by async views (facilitator/apis/object_io.py),
which drf-spectacular cannot see: a postprocessing hook (SPECTACULAR_SETTINGS) adds them, with the
list's page and the errors each one gives."""

from typing import Any

OBJECT = {"$ref": "#/components/schemas/ObjectOutput"}
ERROR = {"type": "object", "properties": {"detail": {"type": "string"}, "reason": {"type": "string"}}}
FIELD_ERRORS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
SECURITY: list[dict[str, list[str]]] = [{"tokenAuth": []}]


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "a field is invalid (field → reasons)", 401: "no or a bad token", 402: "not enough credits",
        404: "no such object of yours", 413: "larger than STORAGE_MAX_OBJECT_BYTES",
        502: "the validator could not store or read it (reason)", 503: "no validator online for it",
        504: "the validator did not answer in time", 507: "the network lacks the space",
    }  # fmt: skip
    return {str(c): _json(FIELD_ERRORS if c in (400, 402, 413) else ERROR, text[c]) for c in codes}


def storage_paths_add(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    page = {
        "type": "object",
        "properties": {
            "count": {"type": "integer"},
            "next": {"type": "string", "nullable": True},
            "previous": {"type": "string", "nullable": True},
            "results": {"type": "array", "items": OBJECT},
        },
    }
    paths = result.setdefault("paths", {})
    paths["/api/v1/objects/"] = {
        "get": {
            "operationId": "objects_list",
            "tags": ["objects"],
            "security": SECURITY,
            "parameters": [
                {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                {"name": "offset", "in": "query", "schema": {"type": "integer"}},
            ],
            "responses": {"200": _json(page, "your stored objects, newest first")} | _errors(401),
        },
        "post": {
            "operationId": "objects_create",
            "tags": ["objects"],
            "security": SECURITY,
            "parameters": [{"name": "name", "in": "query", "required": True, "schema": {"type": "string"}}],
            "requestBody": {
                "required": True,
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            },
            "responses": {"201": _json(OBJECT, "stored: encrypted, spread and placed")}
            | _errors(400, 401, 402, 413, 502, 503, 504, 507),
        },
    }
    paths["/api/v1/objects/{object_id}/content/"] = {
        "get": {
            "operationId": "objects_content",
            "tags": ["objects"],
            "security": SECURITY,
            "parameters": [
                {"name": "object_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
            ],
            "responses": {
                "200": {
                    "description": "the object's bytes",
                    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                }
            }
            | _errors(401, 404, 502, 503, 504),
        }
    }
    return result
