"""The admin's sidebar and index for this node's role: its dashboards first, then the apps whose
models the role registered (config/roles.py), so a miner's sidebar never lists a facilitator table.
Named by UNFOLD in config/settings/components/admin.py."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

# (URL name, title, Material Symbols icon): each mounted by its role only (config/urls.py).
DASHBOARDS = (
    ("meshwork-dashboard", "Network overview", "monitoring"),
    ("meshwork-verification", "Verification", "verified"),
    ("meshwork-scores", "Scores and weights", "leaderboard"),
    ("meshwork-miner", "Miner overview", "memory"),
)


def dashboards_mounted() -> list[dict[str, str]]:
    """The dashboards this node mounts, as sidebar items."""
    items = []
    for name, title, icon in DASHBOARDS:
        try:
            link = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"title": title, "icon": icon, "link": link})
    return items


def sidebar(request: HttpRequest) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = [{"title": "Dashboards", "separator": False, "items": dashboards_mounted()}]
    for app in admin.site.get_app_list(request):
        items = [
            {"title": str(model["name"]), "link": model["admin_url"]}
            for model in app["models"]
            if model.get("admin_url")
        ]
        if items:
            groups.append({"title": str(app["name"]), "separator": True, "collapsible": True, "items": items})
    return groups


def dashboard_links(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """The index page's context: the same dashboards, shown as cards above the app list."""
    context["dashboards"] = dashboards_mounted()
    return context
