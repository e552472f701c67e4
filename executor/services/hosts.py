"""The executor hosts a node is configured with (MINER_EXECUTOR_HOSTS): which Docker engines, and
how many executors of each class each runs. Parsed here so both the miner and the calibration
command read one format."""

from dataclasses import dataclass

from django.conf import settings


class HostsConfigError(ValueError):
    pass


@dataclass(frozen=True)
class HostSpec:
    name: str
    docker_url: str
    classes: dict[str, int]


def executor_hosts_parse(text: str) -> list[HostSpec]:
    """`name=docker_url;class=count,class=count|name2=...`; `local` means the local engine."""
    specs = []
    for chunk in filter(None, (c.strip() for c in text.split("|"))):
        head, _, classes = chunk.partition(";")
        name, sep, url = head.partition("=")
        if not sep or not name or not url:
            raise HostsConfigError(f"{chunk!r}: expected name=docker_url;class=count")
        counts: dict[str, int] = {}
        for item in filter(None, (c.strip() for c in classes.split(","))):
            cls, _, count = item.partition("=")
            if not cls.strip() or not count.isdigit():
                raise HostsConfigError(f"{item!r}: expected class=count")
            counts[cls.strip()] = int(count)
        specs.append(HostSpec(name=name.strip(), docker_url=url.strip(), classes=counts))
    return specs


def executor_host_docker_url(*, name: str) -> str:
    """The engine URL of the host `name` in MINER_EXECUTOR_HOSTS; raises HostsConfigError."""
    for spec in executor_hosts_parse(settings.MINER_EXECUTOR_HOSTS):
        if spec.name == name:
            return spec.docker_url
    raise HostsConfigError(f"no executor host {name!r} in MINER_EXECUTOR_HOSTS")
