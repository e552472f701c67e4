#!/usr/bin/env python
"""DHT scale: Meshwork's DHT (dht/) side by side with the `kademlia` PyPI package (2.2.3) as the
baseline, in one run, same N, same keys, same procedure, real UDP on loopback, all nodes of a
swarm in this one process.

For each scenario and implementation: start N nodes, bootstrap them all through the first one
(20 joins at a time), store KEYS keys from random nodes, then get every key from a random node
(10 gets at a time) and report bootstrap time, get p50/p95 and hits. The churn scenario stops 30%
of the nodes (never the first) after storing and before getting.

    .venv/bin/python bench/dht_scale.py [--keys 50] [--sizes 200,1000] [--churn-size 200] [--concurrency 10]
"""

import argparse
import asyncio
import logging
import random
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kademlia.network import Server  # noqa: E402

from tests.dht.swarm import Swarm  # noqa: E402

JOIN_CONCURRENCY = 20
GET_CONCURRENCY = 10  # --concurrency


@dataclass
class Result:
    impl: str
    scenario: str
    nodes: int
    bootstrap_s: float
    get_p50_ms: float
    get_p95_ms: float
    hits: int
    keys: int


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _gets(keys: list[str], get_one: Callable[[int, str], Awaitable[bool]]) -> tuple[list[float], int]:
    latencies: list[float] = []
    hits = 0
    sem = asyncio.Semaphore(GET_CONCURRENCY)

    async def one(i: int, key: str) -> None:
        nonlocal hits
        async with sem:
            started = time.perf_counter()
            ok = await get_one(i, key)
            latencies.append((time.perf_counter() - started) * 1000)
            hits += ok

    await asyncio.gather(*(one(i, k) for i, k in enumerate(keys)))
    return latencies, hits


async def run_meshwork(n: int, keys: list[str], churn: float, seed: int) -> Result:
    rng = random.Random(seed)
    swarm = Swarm()
    started = time.perf_counter()
    await swarm.grow(n, concurrency=JOIN_CONCURRENCY)
    bootstrap_s = time.perf_counter() - started
    expected = {}
    for i, key in enumerate(keys):
        record, _ = await rng.choice(swarm.nodes).put(key, {"i": i}, ttl_s=3600)
        expected[key] = record
    if churn:
        await swarm.kill(churn, rng=rng)
    getters = [rng.choice(swarm.nodes) for _ in keys]

    async def get_one(i: int, key: str) -> bool:
        result = await getters[i].lookup_value(key)
        return result.records.get(expected[key].subkey) == expected[key]

    latencies, hits = await _gets(keys, get_one)
    await swarm.close()
    return Result(
        "meshwork",
        _scenario(churn),
        n,
        bootstrap_s,
        percentile(latencies, 0.5),
        percentile(latencies, 0.95),
        hits,
        len(keys),
    )


async def run_kademlia(n: int, keys: list[str], churn: float, seed: int) -> Result:
    rng = random.Random(seed)
    servers: list[Server] = []
    for _ in range(n):
        server = Server()
        await server.listen(0, interface="127.0.0.1")
        servers.append(server)
    port = servers[0].transport.get_extra_info("sockname")[1]
    sem = asyncio.Semaphore(JOIN_CONCURRENCY)

    async def join(server: Server) -> None:
        async with sem:
            await server.bootstrap([("127.0.0.1", port)])

    started = time.perf_counter()
    await asyncio.gather(*(join(s) for s in servers[1:]))
    bootstrap_s = time.perf_counter() - started
    for i, key in enumerate(keys):
        await rng.choice(servers).set(key, f"value-{i}")
    if churn:
        victims = rng.sample(servers[1:], round(churn * n))
        for server in victims:
            server.stop()
            servers.remove(server)
    getters = [rng.choice(servers) for _ in keys]

    async def get_one(i: int, key: str) -> bool:
        return await getters[i].get(key) == f"value-{keys.index(key)}"

    latencies, hits = await _gets(keys, get_one)
    for server in servers:
        server.stop()
    return Result(
        "kademlia 2.2.3",
        _scenario(churn),
        n,
        bootstrap_s,
        percentile(latencies, 0.5),
        percentile(latencies, 0.95),
        hits,
        len(keys),
    )


def _scenario(churn: float) -> str:
    return f"{round(churn * 100)}% killed after store" if churn else "no churn"


async def main(args: argparse.Namespace) -> None:
    global GET_CONCURRENCY
    GET_CONCURRENCY = args.concurrency
    logging.basicConfig(level=logging.ERROR)
    # The baseline logs every RPC timeout (expected under churn), and its fire-and-forget tasks write
    # to transports we already closed; neither is a result.
    for name in ("rpcudp", "kademlia", "asyncio", "dht.engine.droplog"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    keys = [f"kv:bench-{i}" for i in range(args.keys)]
    plan = [(n, 0.0) for n in args.sizes] + ([(args.churn_size, 0.3)] if args.churn_size else [])
    print(f"{args.keys} keys, gets {GET_CONCURRENCY} at a time, joins {JOIN_CONCURRENCY} at a time")
    results: list[Result] = []
    for n, churn in plan:
        for runner in (run_kademlia, run_meshwork):
            result = await runner(n, keys, churn, seed=n)
            results.append(result)
            print(
                f"{result.impl:15} N={n:5} {result.scenario:22} bootstrap {result.bootstrap_s:6.1f} s  "
                f"get p50 {result.get_p50_ms:8.1f} ms  p95 {result.get_p95_ms:8.1f} ms  "
                f"hits {result.hits}/{result.keys}",
                flush=True,
            )
            await asyncio.sleep(0.5)
    print()
    print("| Implementation | N | Scenario | Bootstrap | Get p50 | Get p95 | Hits |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r.impl} | {r.nodes} | {r.scenario} | {r.bootstrap_s:.1f} s | {r.get_p50_ms:.1f} ms | "
            f"{r.get_p95_ms:.1f} ms | {r.hits}/{r.keys} |"
        )
    by = {(r.impl, r.nodes, r.scenario): r for r in results}
    print()
    for n, churn in plan:
        ours, base = by[("meshwork", n, _scenario(churn))], by[("kademlia 2.2.3", n, _scenario(churn))]
        print(
            f"N={n} {_scenario(churn)}: get p50 ratio meshwork/kademlia = "
            f"{ours.get_p50_ms / max(base.get_p50_ms, 1e-9):.2f}x, hits {ours.hits} vs {base.hits}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[200, 1000])
    parser.add_argument("--churn-size", type=int, default=200, help="0 skips the churn scenario")
    parser.add_argument("--concurrency", type=int, default=GET_CONCURRENCY, help="gets in flight at once")
    asyncio.run(main(parser.parse_args()))
