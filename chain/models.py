"""The local chain's state. It lives in the `chain` database (shared by a local network's nodes)."""

from django.db import models


class LocalSubnet(models.Model):
    """A subnet's hyperparameters, fixed when it is created (from the LOCAL_CHAIN_* settings)."""

    netuid = models.PositiveIntegerField(primary_key=True)
    genesis_at = models.DateTimeField()
    block_seconds = models.FloatField(default=1.0)
    tempo = models.PositiveIntegerField(default=360)  # blocks per epoch
    commit_reveal = models.BooleanField(default=False)
    reveal_period = models.PositiveIntegerField(default=1)  # epochs from a commit to its reveal
    weights_rate_limit = models.PositiveBigIntegerField(default=0)  # blocks between two weight settings
    # Subtensor's WeightsVersionKey: the lowest node version the subnet accepts, as an integer
    # (protocol.version.version_as_int; 0 = none). Set by the subnet owner.
    weights_version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"subnet {self.netuid}"


class LocalNeuron(models.Model):
    subnet = models.ForeignKey(LocalSubnet, on_delete=models.CASCADE, related_name="neurons")
    uid = models.PositiveIntegerField()
    hotkey = models.CharField(max_length=64)
    coldkey = models.CharField(max_length=64)
    role = models.CharField(max_length=16, choices=[("validator", "validator"), ("miner", "miner")])
    stake = models.BigIntegerField(default=0)
    address = models.CharField(max_length=255, blank=True, default="")
    registered_block = models.PositiveBigIntegerField()
    last_update = models.PositiveBigIntegerField(null=True, blank=True)  # block of its last weights or commit

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subnet", "hotkey"], name="local_neuron_unique_hotkey"),
            models.UniqueConstraint(fields=["subnet", "uid"], name="local_neuron_unique_uid"),
            models.CheckConstraint(condition=models.Q(stake__gte=0), name="local_neuron_stake_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.role} {self.hotkey} (uid {self.uid})"


class LocalWeights(models.Model):
    subnet = models.ForeignKey(LocalSubnet, on_delete=models.CASCADE)
    validator_hotkey = models.CharField(max_length=64)
    weights = models.JSONField()
    block = models.PositiveBigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["subnet", "validator_hotkey", "-block"])]


class LocalWeightCommit(models.Model):
    """A weight commit the local chain holds until it is revealed (subtensor's `WeightCommits`)."""

    subnet = models.ForeignKey(LocalSubnet, on_delete=models.CASCADE)
    hotkey = models.CharField(max_length=64)
    commit_hash = models.CharField(max_length=66)
    commit_block = models.PositiveBigIntegerField()
    reveal_from_block = models.PositiveBigIntegerField()
    reveal_until_block = models.PositiveBigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["subnet", "hotkey", "commit_block"])]

    def __str__(self) -> str:
        return f"{self.hotkey} commit {self.commit_hash[:10]} at {self.commit_block}"


# --- Node-local data: what this node last read from a real chain (routed to the node's own
# database by chain.router, never to the shared local-chain database).


class MetagraphSnapshot(models.Model):
    """The last good read of one subnet, and the sync schedule (with backoff) for the next one."""

    chain = models.CharField(max_length=16)  # backend name: subtensor, hypertensor
    netuid = models.PositiveIntegerField()
    block = models.PositiveBigIntegerField(default=0)
    tempo = models.PositiveIntegerField(default=0)
    commit_reveal = models.BooleanField(default=False)
    weights_rate_limit = models.PositiveBigIntegerField(default=0)
    weights_version = models.PositiveBigIntegerField(default=0)
    synced_at = models.DateTimeField(null=True, blank=True)
    next_sync_at = models.DateTimeField()
    failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "netuid"], name="metagraph_snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.chain} subnet {self.netuid} at block {self.block}"


class MetagraphNeuron(models.Model):
    snapshot = models.ForeignKey(MetagraphSnapshot, on_delete=models.CASCADE, related_name="neurons")
    uid = models.PositiveIntegerField()
    hotkey = models.CharField(max_length=66)
    coldkey = models.CharField(max_length=66, blank=True, default="")
    stake = models.DecimalField(max_digits=40, decimal_places=0, default=0)  # u64 rao / u128 on Hypertensor
    role = models.CharField(max_length=16, choices=[("validator", "validator"), ("miner", "miner")])
    address = models.CharField(max_length=255, blank=True, default="")  # after CHAIN_ADDRESS_OVERRIDES
    announced_address = models.CharField(max_length=255, blank=True, default="")  # as on chain
    validator_permit = models.BooleanField(default=False)
    peer_id = models.CharField(max_length=128, blank=True, default="")
    last_update = models.PositiveBigIntegerField(default=0)
    classification = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "hotkey"], name="metagraph_neuron_unique_hotkey"),
            models.UniqueConstraint(fields=["snapshot", "uid"], name="metagraph_neuron_unique_uid"),
        ]

    def __str__(self) -> str:
        return f"{self.hotkey} (uid {self.uid})"


class WeightCommit(models.Model):
    """A commit-reveal round: the salt and weights are kept here until revealed, so a restart loses nothing."""

    class Status(models.TextChoices):
        COMMITTING = "committing"  # saved before the commit extrinsic is sent
        COMMITTED = "committed"  # on chain; waiting for the reveal window
        REVEALING = "revealing"  # claimed by one worker
        REVEALED = "revealed"
        EXPIRED = "expired"  # the reveal window passed
        FAILED = "failed"

    chain = models.CharField(max_length=16)
    netuid = models.PositiveIntegerField()
    hotkey = models.CharField(max_length=66)
    commit_hash = models.CharField(max_length=66)
    uids = models.JSONField()
    values = models.JSONField()
    salt = models.JSONField()
    version_key = models.PositiveBigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMMITTING)
    commit_block = models.PositiveBigIntegerField(null=True, blank=True)
    reveal_from_block = models.PositiveBigIntegerField(null=True, blank=True)
    reveal_until_block = models.PositiveBigIntegerField(null=True, blank=True)
    revealed_block = models.PositiveBigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["chain", "netuid", "status", "reveal_from_block"])]

    def __str__(self) -> str:
        return f"{self.hotkey} commit {self.commit_hash[:10]} ({self.status})"
