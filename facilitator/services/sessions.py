"""Validator websocket sessions, as rows so every facilitator process sees who is connected."""

from django.utils import timezone

from facilitator.models import ValidatorSession


def validator_session_open(*, hotkey: str, channel_name: str) -> ValidatorSession:
    return ValidatorSession.objects.create(hotkey=hotkey, channel_name=channel_name)


def validator_session_close(*, channel_name: str) -> None:
    ValidatorSession.objects.filter(channel_name=channel_name, disconnected_at=None).update(
        disconnected_at=timezone.now()
    )


def validator_sessions_close_all() -> int:
    """At facilitator start-up: sessions of a previous run are gone with its process."""
    return ValidatorSession.objects.filter(disconnected_at=None).update(disconnected_at=timezone.now())
