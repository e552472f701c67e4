"""Validator websocket sessions, as rows so every facilitator process sees who is connected."""

from django.db import transaction
from django.utils import timezone

from facilitator.models import ValidatorSession


def validator_session_open(*, hotkey: str, channel_name: str) -> ValidatorSession:
    """A validator keeps one link to the facilitator, so a new one supersedes any still counted as
    open: the close of a dead link may never have run (a consumer too busy to see its disconnect
    within the server's close timeout is dropped without it), and jobs routed to its channel
    would be lost. What that link held is resent on the new one."""
    with transaction.atomic():
        ValidatorSession.objects.filter(hotkey=hotkey, disconnected_at=None).update(disconnected_at=timezone.now())
        return ValidatorSession.objects.create(hotkey=hotkey, channel_name=channel_name)


def validator_session_close(*, channel_name: str) -> None:
    ValidatorSession.objects.filter(channel_name=channel_name, disconnected_at=None).update(
        disconnected_at=timezone.now()
    )


def validator_sessions_close_all() -> int:
    """At facilitator start-up: sessions of a previous run are gone with its process."""
    return ValidatorSession.objects.filter(disconnected_at=None).update(disconnected_at=timezone.now())
