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
