"""Error pages: under /api/ a client gets JSON (`{"detail": ...}`, as every API error), not
Django's HTML page; elsewhere (admin, dashboards) the HTML page stays."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
