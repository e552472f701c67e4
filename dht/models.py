"""What a node's DHT process keeps in Postgres. `holder` is the hotkey of the local DHT node, so
several nodes can share one database (tests, single-host setups) without mixing their state."""

from django.db import models


class StoredRecord(models.Model):
    """A signed record this node holds as a replica. `wire` is the exact signed record (canonical
    JSON) it is reloaded from; `value` is a copy for the admin."""

    holder = models.CharField(max_length=64)
    key = models.CharField(max_length=128)
    subkey = models.CharField(max_length=64)
    owner = models.CharField(max_length=64)
    value = models.JSONField()
    wire = models.TextField()
    expires = models.FloatField(help_text="Unix time, part of the signed record")
    expires_at = models.DateTimeField(db_index=True)
    stored_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["holder", "key", "subkey"], name="dht_record_slot")]

    def __str__(self) -> str:
        return f"{self.key} / {self.subkey}"


class KnownPeer(models.Model):
    """The routing table, snapshotted so a restarted node rejoins through the peers it knew."""

    holder = models.CharField(max_length=64)
    hotkey = models.CharField(max_length=64)
    host = models.CharField(max_length=45)
    port = models.PositiveIntegerField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["holder", "hotkey"], name="dht_peer_unique")]

    def __str__(self) -> str:
        return f"{self.hotkey} @ {self.host}:{self.port}"


class NodeHeartbeat(models.Model):
    """The latest heartbeat of each validator and miner, as discovered through the DHT."""

    holder = models.CharField(max_length=64)
    hotkey = models.CharField(max_length=64)
    role = models.CharField(max_length=16)
    state = models.CharField(max_length=16)
    version = models.CharField(max_length=32)
    addresses = models.JSONField(default=list)
    dht_address = models.CharField(max_length=64, blank=True)
    manifest_digest = models.CharField(max_length=64, blank=True)
    rtts_ms = models.JSONField(default=dict)
    published_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["holder", "hotkey"], name="dht_heartbeat_unique")]
        indexes = [models.Index(fields=["holder", "role", "state"])]

    def __str__(self) -> str:
        return f"{self.role} {self.hotkey} {self.state}"


class OwnScoreCommit(models.Model):
    """What this validator committed, with the salt it must keep secret until the reveal."""

    holder = models.CharField(max_length=64)
    epoch = models.PositiveBigIntegerField()
    salt = models.CharField(max_length=32)
    scores = models.JSONField()
    digest = models.CharField(max_length=64)
    committed_at = models.DateTimeField(auto_now_add=True)
    revealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["holder", "epoch"], name="dht_own_commit_unique")]

    def __str__(self) -> str:
        return f"epoch {self.epoch} commit {self.digest[:12]}"


class ScoreReveal(models.Model):
    """Every validator's commit for an epoch (frozen when the commit window closes) and its reveal,
    checked against it."""

    holder = models.CharField(max_length=64)
    epoch = models.PositiveBigIntegerField()
    validator = models.CharField(max_length=64)
    digest = models.CharField(max_length=64, blank=True)
    scores = models.JSONField(null=True, blank=True)
    valid = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["holder", "epoch", "validator"], name="dht_reveal_unique")]

    def __str__(self) -> str:
        return f"epoch {self.epoch} {self.validator} {'ok' if self.valid else self.reason}"


class ValidatorAgreement(models.Model):
    """How closely two validators' revealed scores agree in an epoch: 1 - total variation distance
    between their normalised score vectors (1.0 = identical weights, 0.0 = disjoint)."""

    holder = models.CharField(max_length=64)
    epoch = models.PositiveBigIntegerField()
    validator_a = models.CharField(max_length=64)
    validator_b = models.CharField(max_length=64)
    agreement = models.FloatField()
    miners = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["holder", "epoch", "validator_a", "validator_b"], name="dht_agree_unique")
        ]

    def __str__(self) -> str:
        return f"epoch {self.epoch} {self.validator_a[:8]}~{self.validator_b[:8]} {self.agreement:.3f}"
