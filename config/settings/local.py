"""Settings for a node started by hand: the same as one the local network starts (DEBUG off: a
long-running node must not keep every query in memory); DJANGO_DEBUG=1 for debug pages."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
