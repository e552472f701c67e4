from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from facilitator.models import (
    CreditAccount,
    CreditKind,
    CreditTransaction,
    Job,
    JobStatusEvent,
    StoredObject,
    ValidatorSession,
)
from facilitator.services.ledger import CreditsRefused, credits_add, credits_amount_check
from protocol.admin_theme import ModelAdmin, TabularInline


class JobStatusEventInline(TabularInline[JobStatusEvent, Job]):
    model = JobStatusEvent
    extra = 0
    can_delete = False
    readonly_fields = ["status", "detail", "at"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Job)
class JobAdmin(ModelAdmin[Job]):
    list_display = ["uuid", "user", "status", "executor_class", "miner_hotkey", "cost", "created_at"]
    list_filter = ["status", "executor_class", "failure_kind"]
    search_fields = ["uuid", "tag", "miner_hotkey", "validator_hotkey"]
    readonly_fields = [f.name for f in Job._meta.fields]
    exclude = ["input"]
    inlines = [JobStatusEventInline]


class CreditsAddForm(forms.Form):
    amount = forms.DecimalField(max_digits=20, decimal_places=6)
    kind = forms.ChoiceField(choices=[(k.value, k.label) for k in (CreditKind.GRANT, CreditKind.TOPUP)])
    note = forms.CharField(max_length=255, required=False)

    def clean_amount(self) -> Decimal:
        try:
            return credits_amount_check(self.cleaned_data["amount"])
        except CreditsRefused as exc:
            raise forms.ValidationError(exc.reason) from None


@admin.register(CreditAccount)
class CreditAccountAdmin(ModelAdmin[CreditAccount]):
    """Balances move only through the ledger (the "Add credits" action, `manage.py credits`)."""

    list_display = ["user", "balance", "held"]
    readonly_fields = ["user", "balance", "held"]
    search_fields = ["user__username"]
    actions = ["add_credits"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # an account is opened by its first credit

    def has_delete_permission(self, request: HttpRequest, obj: CreditAccount | None = None) -> bool:
        return False

    @admin.action(description="Add credits (grant or top-up)")
    def add_credits(self, request: HttpRequest, queryset: QuerySet[CreditAccount]) -> TemplateResponse | None:
        form = CreditsAddForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            by = f"admin {request.user.get_username()}"
            try:
                for account in queryset.select_related("user"):
                    credits_add(user=account.user, by=by, **form.cleaned_data)
            except CreditsRefused as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.reason)
            else:
                added = f"{form.cleaned_data['amount']} ({form.cleaned_data['kind']})"
                self.message_user(request, f"Added {added} to {queryset.count()} account(s).", messages.SUCCESS)
                return None
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Add credits",
            "form": form,
            "accounts": queryset.select_related("user"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/facilitator/credits_add.html", context)


@admin.register(CreditTransaction)
class CreditTransactionAdmin(ModelAdmin[CreditTransaction]):
    """The ledger, read-only: rows are never changed or deleted (a database trigger refuses it)."""

    list_display = ["account", "kind", "amount", "job", "attempt", "index", "by", "created_at"]
    list_filter = ["kind"]
    readonly_fields = ["account", "kind", "amount", "job", "attempt", "index", "note", "by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CreditTransaction | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CreditTransaction | None = None) -> bool:
        return False


@admin.register(ValidatorSession)
class ValidatorSessionAdmin(ModelAdmin[ValidatorSession]):
    list_display = ["hotkey", "connected_at", "disconnected_at"]
    readonly_fields = ["hotkey", "channel_name", "connected_at", "disconnected_at"]


@admin.register(StoredObject)
class StoredObjectAdmin(ModelAdmin[StoredObject]):
    list_display = ["name", "user", "size", "status", "shares", "needed", "placed", "validator_hotkey", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "id"]
