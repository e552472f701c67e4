"""ASGI entry point: HTTP through Django, websockets through Channels, routed by the node's role."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from config.websocket_routes import websocket_urlpatterns  # noqa: E402
from protocol.body_limit import BodyLimit  # noqa: E402


def _body_limits() -> list[tuple[str, int]]:
    """Storage bodies are refused above their limit before Django spools them (docs/storage.md)."""
    return [
        ("/api/v1/objects/", settings.STORAGE_MAX_OBJECT_BYTES),
        ("/api/v1/validator/objects/", settings.STORAGE_MAX_OBJECT_BYTES + 1),
        ("/api/v1/storage/shares/", settings.MINER_STORAGE_MAX_SHARE_BYTES),
    ]


application = ProtocolTypeRouter(
    {"http": BodyLimit(django_asgi_app, _body_limits), "websocket": URLRouter(websocket_urlpatterns)}
)
