from django.urls import path

from miner.apis.receipts import ReceiptListApi

urlpatterns = [
    path("receipts/", ReceiptListApi.as_view(), name="miner-receipt-list"),
]
