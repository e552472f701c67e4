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


class ShareSerializer(serializers.Serializer[Any]):
    entitled = serializers.IntegerField()
    in_use = serializers.IntegerField()
    total = serializers.IntegerField()


class MinerDetailSerializer(MinerSerializer):
    checks = CheckSerializer(many=True)
    share = serializers.DictField(child=ShareSerializer())
    share_at = serializers.DateTimeField(allow_null=True)


class PenaltySerializer(serializers.Serializer[Any]):
    reason = serializers.CharField()
    detail = serializers.CharField()
    executor_class = serializers.CharField()
    factor = serializers.FloatField()


class ClassScoreSerializer(serializers.Serializer[Any]):
    executor_class = serializers.CharField()
    claimed = serializers.IntegerField()
    verified = serializers.IntegerField()
    efficiency = serializers.FloatField()
    organic_seconds = serializers.FloatField()
    benchmark_seconds = serializers.FloatField()
    value = serializers.FloatField()
    multiplier = serializers.FloatField()
    points = serializers.FloatField()


class MinerScoreSerializer(serializers.Serializer[Any]):
    hotkey = serializers.CharField()
    coldkey = serializers.CharField()
    score = serializers.FloatField()
    points = serializers.FloatField()
    penalties = PenaltySerializer(many=True)
    classes = ClassScoreSerializer(many=True)


class WeightsSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=["pending", "committed", "revealed", "set", "skipped"])
    block = serializers.IntegerField(allow_null=True)
    values = serializers.DictField(child=serializers.FloatField())
    reason = serializers.CharField()


class CycleSerializer(serializers.Serializer[Any]):
    cycle = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    miners = MinerScoreSerializer(many=True)
    weights = WeightsSerializer()
