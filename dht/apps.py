from django.apps import AppConfig


class DhtConfig(AppConfig):
    name = "dht"
