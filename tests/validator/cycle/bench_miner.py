"""A miner that answers benchmarks in-process, over a real websocket with the real handshake, and
can be told to cheat in any of the ways the adversarial suite tries. Honest by default."""

import asyncio
import base64
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from websockets.asyncio.server import ServerConnection

from protocol.benchmarks.merkle import merkle_path
from protocol.benchmarks.pow import pow_solve
from protocol.benchmarks.product import commit_rows, matmul_compute, row_bytes
from protocol.keys import Hotkey
from protocol.messages.benchmarks import (
    BenchmarkFailed,
    BenchmarkStart,
    Challenge,
    MatmulCommit,
    MatmulOpening,
    OpenRequest,
    PowAnswer,
    RowOpening,
)
from protocol.messages.manifest import HostManifest, HostSpecs, ManifestMessage
from tests.validator.scripted_miner import scripted_miner


def host(
    name: str = "h1", *, executors: dict[str, int] | None = None, cores: int = 8, engine: str = ""
) -> HostManifest:
    specs = HostSpecs(
        cpu_model="Test CPU",
        cpu_cores=cores,
        memory_mb=65536,
        disk_mb=0,
        docker_engine_id=engine or f"engine-{uuid.uuid4()}",
    )
    return HostManifest(name=name, executors=executors or {"cpu.test": 2}, specs=specs)


@dataclass
class Work:
    """What one challenge produced, kept for the opening (and for cheaters to replay)."""

    challenge: Challenge
    nonces: list[int] | None = None
    c: NDArray[Any] | None = None
    root: bytes = b""
    levels: list[list[bytes]] = field(default_factory=list)


class BenchMiner:
    """Override the hooks to cheat; every hook gets the challenge and returns what is sent."""

    def __init__(self, key: Hotkey, hosts: list[HostManifest] | None = None) -> None:
        self.key = key
        self.hosts = hosts or [host()]
        self.work: dict[str, Work] = {}  # by executor key, latest challenge
        self.by_id: dict[Any, Work] = {}
        self.started: list[BenchmarkStart] = []
        self.tasks: set[asyncio.Task[None]] = set()

    # --- hooks
    async def delay(self, challenge: Challenge) -> float:
        return 0.0

    async def refuse(self, challenge: Challenge) -> str | None:
        return None

    async def nonces(self, challenge: Challenge) -> list[int]:
        assert challenge.pow is not None
        p = challenge.pow
        return await asyncio.to_thread(
            pow_solve, challenge=bytes.fromhex(p.challenge), difficulty=p.difficulty, count=p.count
        )

    async def product(self, challenge: Challenge) -> NDArray[Any]:
        assert challenge.matmul is not None
        return await asyncio.to_thread(matmul_compute, seed=bytes.fromhex(challenge.matmul.seed), n=challenge.matmul.n)

    async def commit(self, work: Work) -> bytes:
        assert work.c is not None
        work.root, work.levels = commit_rows(work.c)
        return work.root

    async def opening(self, work: Work, rows: list[int]) -> list[RowOpening]:
        assert work.c is not None
        return [
            RowOpening(
                index=i,
                row_b64=base64.b64encode(row_bytes(work.c[i])).decode(),
                path=[node.hex() for node in merkle_path(work.levels, i)],
            )
            for i in rows
        ]

    # --- the protocol
    def manifest(self) -> ManifestMessage:
        return ManifestMessage(hosts=self.hosts)

    async def on_connect(self, ws: ServerConnection) -> None:
        await ws.send(self.manifest().model_dump_json())

    async def script(self, ws: ServerConnection, message: Any) -> None:
        if isinstance(message, BenchmarkStart):
            self.started.append(message)
            for challenge in message.challenges:
                task = asyncio.create_task(self._answer(ws, challenge))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
        elif isinstance(message, OpenRequest):
            work = self.by_id[message.challenge_id]
            rows = await self.opening(work, list(message.rows))
            await ws.send(MatmulOpening(challenge_id=message.challenge_id, rows=rows).model_dump_json())

    async def _answer(self, ws: ServerConnection, challenge: Challenge) -> None:
        cid = challenge.challenge_id
        refusal = await self.refuse(challenge)
        if refusal is not None:
            await ws.send(BenchmarkFailed(challenge_id=cid, reason=refusal).model_dump_json())
            return
        work = Work(challenge=challenge)
        self.by_id[cid] = work
        self.work[challenge.executor.key() + "/" + challenge.benchmark] = work
        if challenge.pow is not None:
            work.nonces = await self.nonces(challenge)
            answer: Any = PowAnswer(challenge_id=cid, nonces=work.nonces)
        else:
            work.c = await self.product(challenge)
            answer = MatmulCommit(challenge_id=cid, root=(await self.commit(work)).hex())
        await asyncio.sleep(await self.delay(challenge))
        await ws.send(answer.model_dump_json())


@contextlib.asynccontextmanager
async def serving(miner: BenchMiner) -> AsyncIterator[str]:
    async with scripted_miner(miner.key, miner.script, on_connect=miner.on_connect) as address:
        yield address


def zeros_like(c: NDArray[Any]) -> NDArray[Any]:
    return np.zeros_like(c)
