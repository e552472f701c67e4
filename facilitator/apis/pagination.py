"""Limit/offset pagination with a ceiling on `limit`: an unbounded one lets a client ask for a page
larger than Postgres' LIMIT can hold (a 500) or for the whole table at once."""

from rest_framework.pagination import LimitOffsetPagination


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000
