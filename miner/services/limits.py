from executor.models import ExecutorClass
from protocol.messages.executor import ExecutorLimits


def executor_limits(name: str) -> ExecutorLimits:
    cls = ExecutorClass.objects.get(name=name)
    return ExecutorLimits(cpus=cls.cpus, memory_mb=cls.memory_mb, pids=cls.pids, output_mb=cls.output_mb)
