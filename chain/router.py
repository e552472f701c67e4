"""Routes the local chain's tables to the `chain` database when one is configured.

The synced metagraph and pending weight commits are node-local data (what this node read from a
real chain, and its own secrets): they stay in the node's default database."""

from typing import Any

from django.conf import settings
from django.db.models import Model

NODE_LOCAL_MODELS = frozenset({"metagraphsnapshot", "metagraphneuron", "weightcommit"})


def chain_alias() -> str:
    return "chain" if "chain" in settings.DATABASES else "default"


def _shared(app_label: str, model_name: str | None) -> bool:
    return app_label == "chain" and model_name not in NODE_LOCAL_MODELS


class ChainRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if _shared(model._meta.app_label, model._meta.model_name):
            return chain_alias()
        return "default" if model._meta.app_label == "chain" else None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return self.db_for_read(model, **hints)

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        if "chain" not in settings.DATABASES:
            return None
        return (db == "chain") == _shared(app_label, model_name)
