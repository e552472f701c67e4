"""Routes the local chain's tables to the `chain` database when one is configured."""

from typing import Any

from django.conf import settings
from django.db.models import Model


def chain_alias() -> str:
    return "chain" if "chain" in settings.DATABASES else "default"


class ChainRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return chain_alias() if model._meta.app_label == "chain" else None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return self.db_for_read(model, **hints)

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if "chain" not in settings.DATABASES:
            return None
        return (db == "chain") == (app_label == "chain")
