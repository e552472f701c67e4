from django.contrib import admin

from chain.models import LocalNeuron, LocalSubnet, LocalWeights


@admin.register(LocalSubnet)
class LocalSubnetAdmin(admin.ModelAdmin[LocalSubnet]):
    list_display = ["netuid", "genesis_at", "block_seconds"]


@admin.register(LocalNeuron)
class LocalNeuronAdmin(admin.ModelAdmin[LocalNeuron]):
    list_display = ["uid", "role", "hotkey", "coldkey", "stake", "address"]
    list_filter = ["role"]


@admin.register(LocalWeights)
class LocalWeightsAdmin(admin.ModelAdmin[LocalWeights]):
    list_display = ["validator_hotkey", "block"]
