from django.contrib import admin

from chain.models import LocalNeuron, LocalSubnet, LocalWeightCommit, LocalWeights
from protocol.admin_theme import ModelAdmin


@admin.register(LocalSubnet)
class LocalSubnetAdmin(ModelAdmin[LocalSubnet]):
    list_display = ["netuid", "genesis_at", "block_seconds", "tempo", "commit_reveal", "reveal_period"]


@admin.register(LocalNeuron)
class LocalNeuronAdmin(ModelAdmin[LocalNeuron]):
    list_display = ["uid", "role", "hotkey", "coldkey", "stake", "address"]
    list_filter = ["role"]


@admin.register(LocalWeights)
class LocalWeightsAdmin(ModelAdmin[LocalWeights]):
    list_display = ["validator_hotkey", "block"]


@admin.register(LocalWeightCommit)
class LocalWeightCommitAdmin(ModelAdmin[LocalWeightCommit]):
    list_display = ["hotkey", "commit_hash", "commit_block", "reveal_from_block", "reveal_until_block"]
