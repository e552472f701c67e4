"""Settings shared by every role. A node's role decides what it mounts (config/roles.py: URLs,
websocket routes, admin models), but every node has every app installed so one codebase runs any
role on one database schema."""

from typing import Any

import django_stubs_ext

from config.env import BASE_DIR, env
from config.settings.components.node import *  # noqa: F403  (MESHWORK_ROLE, NODE_NAME, REDIS_URL, REDIS_PREFIX)

django_stubs_ext.monkeypatch()  # admin.ModelAdmin[Model] and friends at run time

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="meshwork-insecure-dev-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])


INSTALLED_APPS = [
    "daphne",
    # The admin theme (docs/admin.md): before django.contrib.admin, whose templates it overrides;
    # its app replaces the default admin site with unfold's.
    "unfold",
    "unfold.contrib.constance",
    # No autodiscovery: config/urls.py registers only the role's admin modules.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "constance",
    "protocol",
    "chain",
    "facilitator",
    "validator",
    "miner",
    "executor",
    "dht",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES: dict[str, Any] = {
    "default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/meshwork"),
}
# The local chain lives in its own database shared by every node of a local network; without
# CHAIN_DATABASE_URL it shares the node's database (tests, single-node setups).
if env.str("CHAIN_DATABASE_URL", default=""):
    DATABASES["chain"] = env.db("CHAIN_DATABASE_URL")
DATABASE_ROUTERS = ["chain.router.ChainRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{REDIS_PREFIX}:asgi", "capacity": 1000},
    }
}

AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default="") or None
# The admin's and API docs' assets, served by the node itself from the apps' static dirs (no
# collectstatic, no web server) unless a deployment puts a web server in front.
SERVE_STATIC = env.bool("MESHWORK_SERVE_STATIC", default=True)

from config.settings.components.admin import *  # noqa: E402, F403
from config.settings.components.catalogue import *  # noqa: E402, F403
from config.settings.components.celery import *  # noqa: E402, F403
from config.settings.components.chain import *  # noqa: E402, F403
from config.settings.components.dht import *  # noqa: E402, F403
from config.settings.components.inputs import *  # noqa: E402, F403
from config.settings.components.limits import *  # noqa: E402, F403
from config.settings.components.logging import *  # noqa: E402, F403
from config.settings.components.meshwork import *  # noqa: E402, F403
from config.settings.components.operations import *  # noqa: E402, F403
from config.settings.components.rentals import *  # noqa: E402, F403
from config.settings.components.rest import *  # noqa: E402, F403
from config.settings.components.scoring import *  # noqa: E402, F403
from config.settings.components.storage import *  # noqa: E402, F403
from config.settings.components.tls import *  # noqa: E402, F403
from config.settings.components.verification import *  # noqa: E402, F403
