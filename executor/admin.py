from django.contrib import admin

from executor.models import ExecutorClass


@admin.register(ExecutorClass)
class ExecutorClassAdmin(admin.ModelAdmin[ExecutorClass]):
    list_display = ["name", "cpus", "memory_mb", "pids", "output_mb", "gpu", "price_per_second", "weight", "is_active"]
    list_filter = ["is_active", "gpu"]
    search_fields = ["name", "description"]
