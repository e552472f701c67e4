"""The OpenAPI schema names every response an operation gives: paginated lists as pages, and the
errors (400/401/403/404/415/429) beside the success (found by tests/fuzz/facilitator/test_api_schema.py)."""

from typing import Any

import pytest


@pytest.fixture
def schema(client) -> dict[str, Any]:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def _responses(schema: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return schema["paths"][path][method]["responses"]


@pytest.mark.parametrize("path", ["/api/v1/jobs/", "/api/v1/cycles/"])
def test_a_paginated_list_is_documented_as_a_page(schema, path):
    page = _responses(schema, path, "get")["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][page.rsplit("/", 1)[1]]
    assert set(component["properties"]) == {"count", "next", "previous", "results"}
    parameters = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
    assert {"limit", "offset"} <= parameters


def test_errors_are_documented_from_what_the_operation_takes(schema):
    assert set(_responses(schema, "/api/v1/jobs/", "post")) == {"201", "400", "401", "403", "415", "429"}
    assert set(_responses(schema, "/api/v1/jobs/{job_uuid}/", "get")) == {"200", "401", "403", "404", "429"}
    assert set(_responses(schema, "/api/v1/executor-classes/", "get")) == {"200", "401", "403", "429"}
    # A public operation needs no credentials (no 401/403), but is throttled per address.
    assert set(_responses(schema, "/api/v1/miners/{hotkey}/", "get")) == {"200", "404", "429"}
    error = _responses(schema, "/api/v1/jobs/{job_uuid}/", "get")["404"]["content"]["application/json"]["schema"]
    assert error == {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}


def test_an_error_an_operation_declares_gets_its_body(schema):
    declared = _responses(schema, "/api/v1/cycles/latest/", "get")["404"]
    assert declared["description"] == "No cycle has finished yet."
    assert declared["content"]["application/json"]["schema"]["required"] == ["detail"]
