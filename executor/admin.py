"""The class table. On the subnet owner's node it is the catalogue's source: every save or delete
publishes a new signed version (after commit). Elsewhere it follows the catalogue, so it is
read-only here."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from executor.models import ExecutorClass
from executor.selectors import catalogue_is_owner, catalogue_state_get
from executor.services.catalogue import (
    CatalogueNotOwner,
    catalogue_publish,
    executor_class_delete,
    executor_class_save,
)
from protocol.admin_theme import ModelAdmin


@admin.register(ExecutorClass)
class ExecutorClassAdmin(ModelAdmin[ExecutorClass]):
    list_display = [
        "name",
        "cpus",
        "memory_mb",
        "gpu_count",
        "gpu_model",
        "price_per_second",
        "weight",
        "is_active",
    ]
    list_filter = ["is_active", "gpu"]
    search_fields = ["name", "description"]
    exclude = ["gpu"]  # follows gpu_count
    actions = ["publish_catalogue"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return catalogue_is_owner() and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: ExecutorClass | None = None) -> bool:
        return catalogue_is_owner() and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: ExecutorClass | None = None) -> bool:
        return catalogue_is_owner() and super().has_delete_permission(request, obj)

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return catalogue_is_owner()

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        state = catalogue_state_get()
        source = "this node publishes it" if catalogue_is_owner() else "read-only: classes come from the catalogue"
        digest = state.digest[:16] or "-"
        self.message_user(request, f"Catalogue version {state.version} (digest {digest}); {source}.", messages.INFO)
        return super().changelist_view(request, extra_context)

    def save_model(self, request: HttpRequest, obj: ExecutorClass, form: Any, change: bool) -> None:
        executor_class_save(executor_class=obj)

    def delete_model(self, request: HttpRequest, obj: ExecutorClass) -> None:
        executor_class_delete(executor_class=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ExecutorClass]) -> None:
        for obj in queryset:
            executor_class_delete(executor_class=obj)

    @admin.action(description="Publish the catalogue now", permissions=["publish"])
    def publish_catalogue(self, request: HttpRequest, queryset: QuerySet[ExecutorClass]) -> None:
        try:
            envelope = catalogue_publish()
        except CatalogueNotOwner as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"Published catalogue version {envelope.catalogue.version}.", messages.SUCCESS)
