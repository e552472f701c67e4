"""Reads of executor classes and of the catalogue they follow. Jobs name their class; these turn a
name into limits and prices."""

from django.conf import settings
from django.db.models import QuerySet

from executor.models import CATALOGUE_STATE_PK, CatalogueState, ExecutorClass
from protocol.catalogue import SignedCatalogue
from protocol.identity import node_ss58_or_empty
from protocol.messages.executor import ExecutorLimits


def executor_class_list(*, active_only: bool = True) -> QuerySet[ExecutorClass]:
    """By name, so listings are stable."""
    classes = ExecutorClass.objects.order_by("name")
    return classes.filter(is_active=True) if active_only else classes


def executor_class_get(*, name: str, active_only: bool = True) -> ExecutorClass:
    """Raises ExecutorClass.DoesNotExist for an unknown (or, by default, inactive) class."""
    return executor_class_list(active_only=active_only).get(name=name)


def executor_class_is_active(*, name: str) -> bool:
    return executor_class_list().filter(name=name).exists()


def executor_class_limits(*, name: str, active_only: bool = True) -> ExecutorLimits:
    return executor_class_get(name=name, active_only=active_only).limits()


def catalogue_state_get() -> CatalogueState:
    """The applied catalogue's state; an unsaved version-0 row until one was applied or published."""
    return CatalogueState.objects.filter(pk=CATALOGUE_STATE_PK).first() or CatalogueState(pk=CATALOGUE_STATE_PK)


def catalogue_version_get() -> int:
    """The applied catalogue's version (0 until one was applied or published): one cheap read, for
    loops that act when it changes."""
    version = CatalogueState.objects.filter(pk=CATALOGUE_STATE_PK).values_list("version", flat=True).first()
    return version or 0


def catalogue_envelope_get() -> SignedCatalogue | None:
    """The signed envelope of the applied (or, on the owner, published) catalogue; None at version 0."""
    envelope = CatalogueState.objects.filter(pk=CATALOGUE_STATE_PK).values_list("envelope", flat=True).first()
    return None if envelope is None else SignedCatalogue.model_validate(envelope)


def catalogue_is_owner() -> bool:
    """Whether this node signs the subnet's catalogue (its hotkey is SUBNET_OWNER_HOTKEY)."""
    owner = settings.SUBNET_OWNER_HOTKEY
    return bool(owner) and node_ss58_or_empty() == owner
