"""Users, groups and API tokens, which every node keeps, registered with the admin theme's classes
(in place of `django.contrib.auth.admin` and `rest_framework.authtoken.admin`, which register stock
ones, on import) so their forms render inside it."""

from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from protocol.admin_theme import ModelAdmin

if TYPE_CHECKING:

    class UserForms:
        pass

else:
    from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

    class UserForms:
        form = UserChangeForm
        add_form = UserCreationForm
        change_password_form = AdminPasswordChangeForm


# Importing the stock admin classes registered them: take the models back.
for model in (User, Group, TokenProxy):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(User)
class UserAdmin(UserForms, BaseUserAdmin[User], ModelAdmin[User]):
    pass


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin[Group]):
    pass


@admin.register(TokenProxy)
class TokenAdmin(BaseTokenAdmin, ModelAdmin[TokenProxy]):
    pass
