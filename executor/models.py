"""Executor classes: hardware classes as data, so operators tune limits, prices and weights in the
admin without a deploy."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from protocol.messages.executor import ExecutorLimits

MIN_CPU_MATMUL_N = 2048


class ExecutorClass(models.Model):
    # A dotted slug ("cpu.small"): Django's SlugField refuses dots, hence the regex.
    name = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9]+([._-][a-z0-9]+)*$", "lowercase words joined by . _ or -")],
    )
    description = models.TextField(blank=True)
    # Bounds mirror ExecutorLimits so a saved class always yields valid limits.
    cpus = models.FloatField(validators=[MinValueValidator(0.01), MaxValueValidator(256)])
    memory_mb = models.PositiveIntegerField(validators=[MinValueValidator(16)])
    pids = models.PositiveIntegerField(validators=[MinValueValidator(8)])
    output_mb = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    price_per_second = models.DecimalField(
        max_digits=18,
        decimal_places=6,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Credits per executor-second.",
    )
    weight = models.FloatField(default=1.0, validators=[MinValueValidator(0)], help_text="Relative weight in scoring.")
    gpu = models.BooleanField(default=False)
    gpu_count = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(64)])
    gpu_model = models.CharField(max_length=128, blank=True, default="", help_text="e.g. 'NVIDIA A100-SXM4-80GB'.")
    gpu_memory_mb = models.PositiveIntegerField(default=0, help_text="Memory per GPU.")
    spin_up_s = models.FloatField(
        default=10.0,
        validators=[MinValueValidator(0)],
        help_text="Allowance for starting an executor of this class, added to every benchmark deadline.",
    )
    # Benchmark parameters and the reference figures `manage.py calibrate_class` measured on a host
    # that really has this class's hardware: {"pow": seconds, "matmul": seconds}.
    matmul_n = models.PositiveIntegerField(default=2048, validators=[MinValueValidator(16), MaxValueValidator(32768)])
    pow_difficulty = models.PositiveSmallIntegerField(
        default=16, validators=[MinValueValidator(1), MaxValueValidator(40)]
    )
    # Many easy solutions rather than a few hard ones: the same work with a quarter of the spread
    # (a sum of 64 geometric draws varies by 1/8 of its mean), so an honest miner does not miss
    # its deadline on bad luck.
    pow_count = models.PositiveSmallIntegerField(default=64, validators=[MinValueValidator(1), MaxValueValidator(64)])
    reference_seconds = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "executor classes"
        constraints = [
            models.CheckConstraint(condition=models.Q(cpus__gt=0), name="executor_class_cpus_positive"),
            models.CheckConstraint(
                condition=models.Q(price_per_second__gte=0), name="executor_class_price_not_negative"
            ),
            models.CheckConstraint(condition=models.Q(weight__gte=0), name="executor_class_weight_not_negative"),
            # `gpu` is what the facilitator's API shows; gpu_count is what the container gets.
            models.CheckConstraint(
                condition=models.Q(gpu=True, gpu_count__gt=0) | models.Q(gpu=False, gpu_count=0),
                name="executor_class_gpu_matches_gpu_count",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Below this a CPU's product is too quick for the validator's check to be a small fraction
        # of it (docs/benchmarks.md); tests may build smaller classes directly.
        if self.gpu_count == 0 and self.matmul_n < MIN_CPU_MATMUL_N:
            raise ValidationError({"matmul_n": f"CPU classes use n ≥ {MIN_CPU_MATMUL_N}"})

    def limits(self) -> ExecutorLimits:
        return ExecutorLimits(
            cpus=self.cpus,
            memory_mb=self.memory_mb,
            pids=self.pids,
            output_mb=self.output_mb,
            gpu_count=self.gpu_count,
        )


CATALOGUE_STATE_PK = 1


class CatalogueState(models.Model):
    """The signed catalogue this node's class table follows (one row). Version 0, no row: nothing
    applied yet, the classes seeded by migration 0002 stand."""

    version = models.PositiveIntegerField(default=0)
    digest = models.CharField(max_length=64, blank=True, default="")
    owner = models.CharField(max_length=64, blank=True, default="")
    applied_at = models.DateTimeField(null=True, blank=True)
    # The signed envelope itself: the owner's DHT process publishes it, and it can be re-checked.
    envelope = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = "catalogue state"

    def __str__(self) -> str:
        return f"catalogue v{self.version}"
