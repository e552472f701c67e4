from django.contrib import admin

from dht import models
from protocol.admin_theme import ModelAdmin


@admin.register(models.StoredRecord)
class StoredRecordAdmin(ModelAdmin[models.StoredRecord]):
    list_display = ["key", "subkey", "owner", "expires_at", "stored_at", "holder"]
    list_filter = ["holder"]
    search_fields = ["key", "subkey", "owner"]
    readonly_fields = [f.name for f in models.StoredRecord._meta.fields]


@admin.register(models.KnownPeer)
class KnownPeerAdmin(ModelAdmin[models.KnownPeer]):
    list_display = ["hotkey", "host", "port", "last_seen_at", "holder"]
    search_fields = ["hotkey", "host"]


@admin.register(models.NodeHeartbeat)
class NodeHeartbeatAdmin(ModelAdmin[models.NodeHeartbeat]):
    list_display = ["hotkey", "role", "state", "version", "published_at", "expires_at", "holder"]
    list_filter = ["role", "state"]
    search_fields = ["hotkey"]


@admin.register(models.OwnScoreCommit)
class OwnScoreCommitAdmin(ModelAdmin[models.OwnScoreCommit]):
    list_display = ["epoch", "digest", "committed_at", "revealed_at", "holder"]


@admin.register(models.ScoreReveal)
class ScoreRevealAdmin(ModelAdmin[models.ScoreReveal]):
    list_display = ["epoch", "validator", "valid", "reason", "checked_at", "holder"]
    list_filter = ["epoch", "valid"]


@admin.register(models.ValidatorAgreement)
class ValidatorAgreementAdmin(ModelAdmin[models.ValidatorAgreement]):
    list_display = ["epoch", "validator_a", "validator_b", "agreement", "miners", "holder"]
    list_filter = ["epoch"]
