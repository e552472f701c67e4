#!/usr/bin/env python
"""Honest miners' `GET /api/v1/receipts/` for bench/receipts.py, in a process of their own so the
validator's process measures only itself: RECEIPTS signed receipts (real sr25519 signatures by the
bench validator and each miner) spread over MINERS miners, served as pre-rendered pages over
HTTP/1.1 keep-alive on loopback, `next` an offset, null at the end.

Prints one JSON line {"miners": [{"hotkey", "address"}], "validator"} when serving; exits on stdin EOF."""

import argparse
import asyncio
import json
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.validator.receipts.miner_server import job_payloads, key, signed  # noqa: E402

VALIDATOR_NAME = "bench-validator"


def miner_name(i: int) -> str:
    return f"bench-miner-{i}"


def pages_render(receipts: list[dict[str, object]], size: int) -> dict[str, bytes]:
    """cursor → the page's body ("" is the first page, asked for with `since`)."""
    pages = {}
    for start in range(0, max(len(receipts), 1), size):
        end = start + size
        nxt = str(end) if end < len(receipts) else None
        pages["" if start == 0 else str(start)] = json.dumps({"results": receipts[start:end], "next": nxt}).encode()
    return pages


async def serve(pages: dict[str, dict[str, bytes]]) -> int:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = urlsplit(head.split(b" ", 2)[1].decode())
                name = target.path.strip("/").split("/", 1)[0]
                cursor = parse_qs(target.query).get("cursor", [""])[0]
                body = pages.get(name, {}).get(cursor)
                if body is None:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                else:
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                    )
                    writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port: int = server.sockets[0].getsockname()[1]
    asyncio.get_running_loop().create_task(server.serve_forever())
    return port


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--receipts", type=int, default=100_000)
    parser.add_argument("--miners", type=int, default=20)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()
    validator = key(VALIDATOR_NAME)
    per_miner = args.receipts // args.miners
    pages, served = {}, []
    for i in range(args.miners):
        miner = key(miner_name(i))
        receipts: list[dict[str, object]] = []
        while len(receipts) < per_miner:  # whole jobs: started, accepted, interval, finished
            receipts.extend(
                signed(p, validator=validator, miner=miner) for p in job_payloads(validator=validator, miner=miner)
            )
        pages[miner_name(i)] = pages_render(receipts[:per_miner], args.page_size)
        served.append({"hotkey": miner.ss58, "name": miner_name(i)})
    port = await serve(pages)
    for entry in served:
        entry["address"] = f"http://127.0.0.1:{port}/{entry.pop('name')}"
    print(json.dumps({"miners": served, "validator": validator.ss58}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    asyncio.run(main())
