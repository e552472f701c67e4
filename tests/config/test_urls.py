"""The node serves its own admin and API-docs assets, so both look right on a local network."""

import pytest


@pytest.mark.django_db
def test_admin_and_swagger_assets_are_served(client):
    css = client.get("/static/admin/css/base.css")
    assert css.status_code == 200
    assert b"".join(css.streaming_content).startswith(b"/*")
    css.close()
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in docs.content
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
    assert asset.status_code == 200
    asset.close()  # a FileResponse: close its file


def test_a_missing_asset_is_a_404(client):
    assert client.get("/static/admin/css/nope.css").status_code == 404


def test_health_check_answers(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/jobs/not-a-uuid/", "/api/v2/nothing/", "/api/"])
def test_an_unknown_api_path_is_a_json_404(client, path):
    # Found by tests/fuzz: the API answered a path its routes do not match with Django's HTML page.
    response = client.get(path)
    assert (response.status_code, response["Content-Type"], response.json()) == (
        404,
        "application/json",
        {"detail": "Not found."},
    )


def test_an_unknown_page_elsewhere_stays_html(client):
    response = client.get("/no-such-page/")
    assert (response.status_code, response["Content-Type"]) == (404, "text/html; charset=utf-8")
