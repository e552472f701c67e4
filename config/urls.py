"""HTTP routes per role: every node serves its probes (healthz, readyz, metrics: config/probes.py),
its admin (only its own apps' models) and static assets; the REST API, its schema and docs, and the
dashboard are the facilitator's; the read-only miners and cycles API, the verification and score
charts are the validator's; the receipts API and the miner overview are the miner's (role "all"
serves them all under api/v1/: their paths differ)."""

from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.probes import healthz, metrics, readyz
from config.roles import NodeRole, role_admin_modules, role_serves
from facilitator.dashboard.views import dashboard
from miner.dashboard.views import miner_dashboard
from validator.dashboard.scores import scores_dashboard
from validator.dashboard.views import verification_dashboard

# SimpleAdminConfig does not autodiscover: a node registers only its role's admin modules.
for module in role_admin_modules(settings.MESHWORK_ROLE):
    import_module(module)

# A path under /api/ that matches no route (or whose parameter does not convert) answers JSON.
handler404 = "config.http_errors.not_found"
urlpatterns: list[Any] = [path("healthz/", healthz), path("readyz/", readyz), path("metrics/", metrics)]
if role_serves(settings.MESHWORK_ROLE, NodeRole.FACILITATOR):
    urlpatterns += [
        path("admin/dashboard/", dashboard, name="meshwork-dashboard"),
        path("api/v1/", include("facilitator.urls")),
        path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
        path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    ]
if role_serves(settings.MESHWORK_ROLE, NodeRole.VALIDATOR):
    urlpatterns += [
        path("admin/verification/", verification_dashboard, name="meshwork-verification"),
        path("admin/scores/", scores_dashboard, name="meshwork-scores"),
        path("api/v1/", include("validator.urls")),
    ]
if role_serves(settings.MESHWORK_ROLE, NodeRole.MINER):
    urlpatterns += [
        path("admin/miner-overview/", miner_dashboard, name="meshwork-miner"),
        path("api/v1/", include("miner.urls")),
    ]
urlpatterns.append(path("admin/", admin.site.urls))
if settings.SERVE_STATIC:
    # A plain route, not a middleware: async views (the job long-poll) stay async.
    urlpatterns.append(re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}))
