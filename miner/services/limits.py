from executor.selectors import executor_class_limits
from protocol.messages.executor import ExecutorLimits


def executor_limits(name: str) -> ExecutorLimits:
    return executor_class_limits(name=name, active_only=False)
