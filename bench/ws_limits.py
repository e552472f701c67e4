#!/usr/bin/env python
"""What the websocket limits cost per frame: frames/s through `SignedConsumer` (in process, one
connection, a handler that only replies) with the limits as shipped (tokens leased from Redis in
batches), with one Redis round trip per frame (leases of one token), and with no Redis at all
(a stand-in that admits everything), all in this process against the same Redis.

    .venv/bin/python bench/ws_limits.py [--frames 2000] [--rounds 3]
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
os.environ["MESHWORK_REDIS_PREFIX"] = f"meshwork:bench-ws-limits:{uuid.uuid4().hex}"
KEY_PATH = Path(tempfile.mkdtemp()) / "hotkey.json"
os.environ["MESHWORK_HOTKEY_PATH"] = str(KEY_PATH)

import django  # noqa: E402

django.setup()

from channels.testing import WebsocketCommunicator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import override_settings  # noqa: E402
from pydantic import TypeAdapter  # noqa: E402

import protocol.consumer  # noqa: E402
from protocol.consumer import SignedConsumer  # noqa: E402
from protocol.handshake import handshake_build  # noqa: E402
from protocol.identity import node_hotkey  # noqa: E402
from protocol.keys import hotkey_create, hotkey_write  # noqa: E402
from protocol.limits import ADMITTED, Verdict  # noqa: E402
from protocol.messages.jobs import JobCancelled  # noqa: E402
from protocol.messages.miner import JobCancel  # noqa: E402

PATH = "/v1/bench/"


class Echo(SignedConsumer[JobCancel]):
    incoming = TypeAdapter(JobCancel)
    path = PATH

    async def authorize(self, peer_hotkey: str) -> str | None:
        return None

    async def handle(self, message: JobCancel) -> None:
        await self.send_message(JobCancelled(job_uuid=message.job_uuid))


class NoRedis:
    async def admit(self, peer: str, *, rate_per_s: float, burst: int) -> Verdict:
        return ADMITTED

    async def ban_get(self, peer: str) -> None:
        return None


async def frames_per_s(frames: int) -> float:
    comm = WebsocketCommunicator(Echo.as_asgi(), PATH)
    await comm.connect()
    hello = handshake_build(hotkey=hotkey_create()[0], peer_hotkey=node_hotkey().ss58, path=PATH)
    await comm.send_to(text_data=hello.model_dump_json())
    await comm.receive_json_from(timeout=10)
    frame = JobCancel(job_uuid=uuid.uuid4()).model_dump_json()
    start = time.perf_counter()
    for _ in range(frames):
        await comm.send_to(text_data=frame)
    for _ in range(frames):
        assert (await comm.receive_json_from(timeout=30))["type"] == "job.cancelled"
    elapsed = time.perf_counter() - start
    await comm.disconnect()
    return frames / elapsed


def run(variant: Callable[[], Any], frames: int) -> float:
    with variant():
        protocol.consumer._store = None  # a nonce store for this run's event loop
        return asyncio.run(frames_per_s(frames))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    key, seed = hotkey_create()
    hotkey_write(path=KEY_PATH, hotkey=key, seed_hex=seed)
    variants: dict[str, Callable[[], Any]] = {
        "no Redis (baseline)": lambda: mock.patch("protocol.consumer.peer_limits", NoRedis),
        # A burst under 64 leases one token at a time; a huge rate keeps it from throttling.
        "a round trip per frame": lambda: override_settings(PROTOCOL_PEER_RATE_PER_S=1e9, PROTOCOL_PEER_RATE_BURST=63),
        "as shipped (leases)": lambda: override_settings(),
    }
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, variant in variants.items():
            results[name].append(run(variant, args.frames))
    base = statistics.median(results["no Redis (baseline)"])
    burst = settings.PROTOCOL_PEER_RATE_BURST
    print(f"{args.frames} frames × {args.rounds} rounds, median frames/s (per-peer burst {burst}):")
    for name, rates in results.items():
        print(f"  {name:<24} {statistics.median(rates):8.0f}   × {statistics.median(rates) / base:.2f} of the baseline")


if __name__ == "__main__":
    main()
