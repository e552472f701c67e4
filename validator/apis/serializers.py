"""The validator API's response shapes (docs: /work/shared/DESIGN.md "Validator API"); they
describe the selectors' dicts for the OpenAPI schema and render them unchanged."""

from typing import Any

from rest_framework import serializers


class CheckSerializer(serializers.Serializer[Any]):
    cycle = serializers.IntegerField()
    benchmark = serializers.CharField()
    executor = serializers.CharField()
    executor_class = serializers.CharField()
    passed = serializers.BooleanField()
    reason = serializers.CharField()
    detail = serializers.CharField()
    seconds = serializers.FloatField(allow_null=True)


class MinerSerializer(serializers.Serializer[Any]):
    hotkey = serializers.CharField()
    coldkey = serializers.CharField()
    manifest = serializers.DictField(child=serializers.IntegerField())
    verified = serializers.DictField(child=serializers.IntegerField())
    last_checked_at = serializers.DateTimeField(allow_null=True)


class MinerDetailSerializer(MinerSerializer):
    checks = CheckSerializer(many=True)
