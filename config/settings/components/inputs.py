"""Job inputs the miner fetches from URLs (executor/runtime/input_fetch.py; docs/inputs.md).
The whole-fetch deadline, EXECUTOR_URL_FETCH_TIMEOUT_S, lives with the other executor limits."""

import ipaddress

from django.core.exceptions import ImproperlyConfigured

from config.env import env

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def env_networks(name: str) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(value, strict=False) for value in env.list(name, default=[]))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: not a list of IP addresses or CIDRs ({exc})") from exc


EXECUTOR_URL_CONNECT_TIMEOUT_S = env.float("EXECUTOR_URL_CONNECT_TIMEOUT_S", default=10.0)
EXECUTOR_URL_READ_TIMEOUT_S = env.float("EXECUTOR_URL_READ_TIMEOUT_S", default=20.0)  # each read
EXECUTOR_URL_MAX_REDIRECTS = env.int("EXECUTOR_URL_MAX_REDIRECTS", default=5)
# This node's addresses that are on none of its interfaces (a public IP behind NAT or a load
# balancer): refused like the interface addresses, which are found at every fetch.
INPUT_URL_OWN_ADDRESSES = env_networks("INPUT_URL_OWN_ADDRESSES")
# UNSAFE: networks URL inputs may be fetched from although they are private, loopback or the
# node's own (tests, a local network serving inputs from this machine). Empty in production.
INPUT_URL_ALLOWED_NETWORKS = env_networks("INPUT_URL_ALLOWED_NETWORKS")
