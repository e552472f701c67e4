from django.contrib import admin

from chain.models import LocalNeuron, LocalSubnet, LocalWeightCommit, LocalWeights


@admin.register(LocalSubnet)
class LocalSubnetAdmin(admin.ModelAdmin[LocalSubnet]):
    list_display = ["netuid", "genesis_at", "block_seconds", "tempo", "commit_reveal", "reveal_period"]


@admin.register(LocalNeuron)
class LocalNeuronAdmin(admin.ModelAdmin[LocalNeuron]):
    list_display = ["uid", "role", "hotkey", "coldkey", "stake", "address"]
    list_filter = ["role"]


@admin.register(LocalWeights)
class LocalWeightsAdmin(admin.ModelAdmin[LocalWeights]):
    list_display = ["validator_hotkey", "block"]


@admin.register(LocalWeightCommit)
class LocalWeightCommitAdmin(admin.ModelAdmin[LocalWeightCommit]):
    list_display = ["hotkey", "commit_hash", "commit_block", "reveal_from_block", "reveal_until_block"]
