"""Users the facilitator creates itself (the local network's admin, who also submits jobs)."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from facilitator.services.credits import credits_grant


@transaction.atomic
def user_admin_ensure(*, username: str, password: str, credits: Decimal) -> Token:
    """A staff superuser with this password and an API token; granted `credits` once, when created,
    so a restarted network keeps its balance."""
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_staff": True, "is_superuser": True}
    )
    user.set_password(password)
    user.save()
    if created:
        credits_grant(user=user, amount=credits, note="local network start-up grant")
    token, _ = Token.objects.get_or_create(user=user)
    return token
