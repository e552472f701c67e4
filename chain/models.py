"""The local chain's state. It lives in the `chain` database (shared by a local network's nodes)."""

from django.db import models


class LocalSubnet(models.Model):
    netuid = models.PositiveIntegerField(primary_key=True)
    genesis_at = models.DateTimeField()
    block_seconds = models.FloatField(default=1.0)

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
