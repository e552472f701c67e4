from config.env import env
from config.logging import logging_dict

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# "console" locally; production.py defaults to "json" (one JSON object a line).
LOG_FORMAT = env.str("LOG_FORMAT", default="console")
LOGGING_CONFIG = "config.logging.logging_configure"
LOGGING = logging_dict(log_format=LOG_FORMAT, level=LOG_LEVEL)
