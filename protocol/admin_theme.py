"""The base classes every role's admin derives from: django-unfold's, so changelists and forms wear
the theme (a stock ModelAdmin renders unstyled inside it). Type checkers see Django's own generic
classes, which unfold's subclass without changing their interface (unfold ships no type hints)."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin, StackedInline, TabularInline
else:
    from unfold.admin import ModelAdmin, StackedInline, TabularInline

__all__ = ["ModelAdmin", "StackedInline", "TabularInline"]
