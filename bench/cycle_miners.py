#!/usr/bin/env python
"""The simulated miners of bench/cycle.py, in a process of their own so that the validator's
process is measured alone: MINERS honest BenchMiners (tests/validator/cycle/bench_miner.py, the
real handshake over real websockets), each on its own loopback port with one host of EXECUTORS
executors of CLASS, all served by one asyncio loop.

    .venv/bin/python bench/cycle_miners.py --miners 256 --executors 8 --class cpu.bench-cycle [--deflate]

Prints one JSON line {"miners": [{"hotkey", "address"}]} once every miner serves, then serves
until its stdin closes, then prints {"cpu_s": ...} (its own CPU time) and exits.
"""

import argparse
import asyncio
import functools
import json
import resource
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
from websockets.asyncio.server import serve as websockets_serve  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

# The scripted miner imports the validator's session, which imports its models (settings: bench/cycle.py's).
django.setup()

import tests.validator.scripted_miner as scripted_miner_module  # noqa: E402
from protocol.keys import hotkey_create  # noqa: E402
from tests.validator.cycle.bench_miner import BenchMiner, host, serving  # noqa: E402


def _quiet_closed(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """An answer still being sent when the validator ends the run and closes the link is expected."""
    if not isinstance(context.get("exception"), ConnectionClosed):
        loop.default_exception_handler(context)


async def serve(*, miners: int, executors: int, executor_class: str, deflate: bool) -> None:
    asyncio.get_running_loop().set_exception_handler(_quiet_closed)
    async with AsyncExitStack() as stack:
        if not deflate:
            # A real miner serves through daphne (autobahn), which accepts no permessage-deflate;
            # websockets' serve would negotiate it, and (de)compressing every opening costs both sides.
            plain = functools.partial(websockets_serve, compression=None)
            stack.enter_context(mock.patch.object(scripted_miner_module, "serve", plain))
        served = []
        for _ in range(miners):
            key, _ = hotkey_create()  # fresh keys every run: nothing to leak or reuse
            miner = BenchMiner(key, [host("h1", executors={executor_class: executors})])
            address = await stack.enter_async_context(serving(miner))
            served.append({"hotkey": key.ss58, "address": address})
        print(json.dumps({"miners": served}), flush=True)
        await asyncio.to_thread(sys.stdin.read)  # the parent closes our stdin when it is done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--miners", type=int, default=256)
    parser.add_argument("--executors", type=int, default=8)
    parser.add_argument("--class", dest="executor_class", required=True)
    parser.add_argument("--deflate", action="store_true", help="negotiate permessage-deflate")
    args = parser.parse_args()
    asyncio.run(
        serve(miners=args.miners, executors=args.executors, executor_class=args.executor_class, deflate=args.deflate)
    )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"cpu_s": round(usage.ru_utime + usage.ru_stime, 2)}), flush=True)


if __name__ == "__main__":
    main()
