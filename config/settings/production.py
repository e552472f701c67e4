from config.logging import logging_dict
from config.settings.base import *  # noqa: F403
from config.settings.base import LOG_LEVEL, env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = logging_dict(log_format=LOG_FORMAT, level=LOG_LEVEL)
