from django.urls import path

from validator.apis.cycles import CycleLatestApi, CycleListApi
from validator.apis.miners import MinerDetailApi, MinerListApi

urlpatterns = [
    path("miners/", MinerListApi.as_view(), name="validator-miner-list"),
    path("miners/<str:hotkey>/", MinerDetailApi.as_view(), name="validator-miner-detail"),
    path("cycles/", CycleListApi.as_view(), name="validator-cycle-list"),
    path("cycles/latest/", CycleLatestApi.as_view(), name="validator-cycle-latest"),
]
