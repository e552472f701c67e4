"""The operator's endpoints every node serves: `/healthz/` (the process answers), `/readyz/` (it
can work: config/readiness.py) and `/metrics/` (config/metrics.py). docs/observability.md."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST

from config.metrics import metrics_page
from config.readiness import readiness_checks, readiness_run
from protocol.version import NODE_VERSION


def healthz(request: HttpRequest) -> JsonResponse:
    """No dependency is looked at: a liveness probe restarts the process, not its database."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    results = readiness_run(readiness_checks(settings.MESHWORK_ROLE))
    ready = all(result.ok for result in results)
    body = {
        "status": "ready" if ready else "not_ready",
        "role": str(settings.MESHWORK_ROLE),
        "version": NODE_VERSION,
        "checks": {result.name: result.as_json() for result in results},
    }
    return JsonResponse(body, status=200 if ready else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    return HttpResponse(metrics_page(settings.MESHWORK_ROLE), content_type=CONTENT_TYPE_LATEST)
