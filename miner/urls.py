from django.urls import path

from miner.apis.receipts import ReceiptListApi
from miner.apis.storage import share_audit, share_detail, storage_space

urlpatterns = [
    path("receipts/", ReceiptListApi.as_view(), name="miner-receipt-list"),
    path("storage/space/", storage_space, name="miner-storage-space"),
    path("storage/shares/<uuid:share_id>/", share_detail, name="miner-share"),
    path("storage/shares/<uuid:share_id>/audit/", share_audit, name="miner-share-audit"),
]
