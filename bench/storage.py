#!/usr/bin/env python
"""Storage: upload and download through a real local network against a plain file copy of the
same bytes on the same disk, in the same run; what an audit costs the validator and the miner per
GB stored; the audit deadline's margin over an honest answer; and how long repairing one lost
miner takes (docs/storage.md).

    .venv/bin/python bench/storage.py [--mib 64] [--rounds 3] [--repair-objects 4]
"""

import argparse
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from deploy.localnet.databases import database_url, drop_databases, existing_databases  # noqa: E402
from deploy.localnet.network import LocalNetwork, NetworkConfig  # noqa: E402
from deploy.localnet.sizing import manage_checked  # noqa: E402
from protocol.storage.audit import AuditChallenge, audit_answer_build, audit_answer_check  # noqa: E402
from protocol.storage.envelope import object_encrypt  # noqa: E402
from protocol.storage.erasure import shares_encode  # noqa: E402
from protocol.storage.proofs import share_leaves, share_root  # noqa: E402
from protocol.storage.seal import seal_key, share_seal  # noqa: E402

MIB = 1024 * 1024
CHUNK = 16 * 1024
AUDIT_CHUNKS = 8


def best(times: list[float] | list[int]) -> float:
    return statistics.median(times)


def audit_costs(directory: Path, share_mib: int, audits: int = 300) -> None:
    """Miner: read the named chunks (seek) and build the paths from the leaves sidecar; validator:
    check the answer against the root. Per audit, and per GB stored for one audit of every share."""
    data = os.urandom(share_mib * MIB)
    path = directory / "share.bin"
    path.write_bytes(data)
    leaves = share_leaves(data, chunk_bytes=CHUNK)
    root = share_root(leaves)
    miner_s, validator_s, answer_bytes = [], [], []
    with path.open("rb") as f:

        def read_chunk(i: int) -> bytes:
            f.seek(i * CHUNK)
            return f.read(CHUNK)

        for _ in range(audits):
            challenge = AuditChallenge(nonce=secrets.token_hex(32), count=AUDIT_CHUNKS)
            t0 = time.perf_counter()
            answer = audit_answer_build(challenge, leaves=leaves, read_chunk=read_chunk)
            t1 = time.perf_counter()
            assert audit_answer_check(answer, challenge=challenge, root=root, size=len(data), chunk_bytes=CHUNK) is None
            t2 = time.perf_counter()
            miner_s.append(t1 - t0)
            validator_s.append(t2 - t1)
            answer_bytes.append(len(answer.model_dump_json()))
    shares_per_gb = 1e9 / len(data)
    m, v = best(miner_s), best(validator_s)
    print(f"audit of a {share_mib} MiB share ({AUDIT_CHUNKS} chunks of {CHUNK // 1024} KiB, {audits} audits):")
    print(f"  miner     {m * 1e3:7.2f} ms per audit  → {m * shares_per_gb * 1e3:8.1f} ms per GB audited once")
    print(f"  validator {v * 1e3:7.2f} ms per audit  → {v * shares_per_gb * 1e3:8.1f} ms per GB audited once")
    print(f"  answer    {best(answer_bytes) / 1024:7.1f} KiB on the wire (the share itself is never sent)")
    t0 = time.perf_counter()
    key, ciphertext = object_encrypt(data + data, object_id=uuid4())
    shares = shares_encode(ciphertext, k=2, n=3)
    for share in shares:
        share_seal(share, key=seal_key(key, share_id=uuid4(), miner_hotkey="5Miner"))
        share_root(share_leaves(share, chunk_bytes=CHUNK))
    prep = time.perf_counter() - t0
    print(f"validator upload CPU for {2 * share_mib} MiB (encrypt, 2-of-3 code, seal, roots): {prep:.2f} s")
    path.unlink()


def upload(api: httpx.Client, data: bytes) -> tuple[float, str]:
    t0 = time.perf_counter()
    reply = api.post("/api/v1/objects/", params={"name": "bench.bin"}, content=data, timeout=600)
    elapsed = time.perf_counter() - t0
    if reply.status_code != 201:
        raise SystemExit(f"upload failed: {reply.status_code} {reply.text[:300]}")
    return elapsed, str(reply.json()["id"])


def download(api: httpx.Client, object_id: str, expected: bytes) -> float:
    t0 = time.perf_counter()
    reply = api.get(f"/api/v1/objects/{object_id}/content/", timeout=600)
    elapsed = time.perf_counter() - t0
    if reply.status_code != 200 or reply.content != expected:
        raise SystemExit(f"download failed or differs: {reply.status_code}")
    return elapsed


def validator_rows(net: LocalNetwork, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    url = database_url(f"{net.config.db_prefix}_validator1", port=net.config.postgres_port)
    with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        return list(conn.execute(query, params).fetchall())


def network_figures(net: LocalNetwork, mib: int, rounds: int, repair_objects: int) -> None:
    creds = net.credentials
    headers = {"Authorization": f"Token {creds['api_token']}"}
    data = os.urandom(mib * MIB)
    source = net.dir / "bench-source.bin"
    source.write_bytes(data)
    validator = next(n for n in net.nodes if n.role == "validator")
    with httpx.Client(base_url=creds["facilitator_url"], headers=headers) as api:
        ups, downs, copies, ids = [], [], [], []
        for _ in range(rounds):  # alternating: the machine's load hits both alike
            t0 = time.perf_counter()
            shutil.copyfile(source, net.dir / "bench-copy.bin")
            os.sync()
            copies.append(time.perf_counter() - t0)
            elapsed, object_id = upload(api, data)
            ups.append(elapsed)
            ids.append(object_id)
            downs.append(download(api, object_id, data))
        copy = best(copies)
        print(f"{mib} MiB, median of {rounds} rounds (3 miners of 4 hold each object, 2-of-3):")
        print(f"  plain file copy  {copy:6.2f} s  {mib / copy:7.1f} MiB/s")
        for label, times in (("upload", ups), ("download", downs)):
            t = best(times)
            print(f"  {label:<16} {t:6.2f} s  {mib / t:7.1f} MiB/s  {t / copy:5.1f}× the copy")

        for _ in range(3):
            manage_checked(["storage_maintain", "--all"], net._env(validator))
        rows = validator_rows(net, "SELECT seconds FROM validator_shareaudit WHERE passed")
        honest = sorted(float(str(r[0])) for r in rows)
        p50, p95 = statistics.median(honest), honest[int(0.95 * (len(honest) - 1))]
        deadline = float(net._env(validator).get("STORAGE_AUDIT_DEADLINE_S", "2.0"))
        print(f"audit over HTTPS, {len(honest)} honest answers: p50 {p50 * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms;")
        print(f"  deadline {deadline:.1f} s = {deadline / p95:.0f}× the honest p95")

        small = os.urandom(8 * MIB)
        repair_ids = [upload(api, small)[1] for _ in range(repair_objects)]
        holders = validator_rows(
            net,
            "SELECT m.hotkey, COUNT(*) FROM validator_shareplacement p JOIN validator_miner m ON m.id = p.miner_id "
            "WHERE p.status = 'live' AND p.object_id::text = ANY(%s) GROUP BY m.hotkey ORDER BY 2 DESC",
            (repair_ids,),
        )
        victim_hotkey, held = str(holders[0][0]), holders[0][1]
        victim = next(n for n in net.nodes if n.role == "miner" and n.hotkey.ss58 == victim_hotkey)
        net.kill(victim.name)
        t0 = time.perf_counter()
        report = json.loads(manage_checked(["storage_maintain", "--all"], net._env(validator)))
        repair_s = time.perf_counter() - t0
        print(
            f"repair of one lost miner holding {held} shares of {repair_objects} × 8 MiB objects: {repair_s:.1f} s "
            f"(one audit round that finds it gone, then {report['repairs']['shares_rebuilt']} shares rebuilt)"
        )
        for object_id in repair_ids:
            download(api, object_id, small)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repair-objects", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="meshwork-bench-storage-") as tmp:
        audit_costs(Path(tmp), share_mib=args.mib // 2)
    prefix = f"meshwork_storage_{os.environ.get('MESHWORK_TEST_ID', 'main')}"
    drop_databases(sorted(existing_databases(prefix + "_")))
    directory = Path(tempfile.mkdtemp(prefix="meshwork-bench-storage-net-"))
    config = NetworkConfig(
        directory=directory,
        miners=4,
        executors=1,
        port_base=None,
        db_prefix=prefix,
        celery=False,
        calibrate_runs=0,
        extra_env={"STORAGE_REPAIR_AFTER_FAILURES": "1", "LOG_LEVEL": "WARNING"},
    )
    net = LocalNetwork(config)
    net.prepare()
    net.start()
    try:
        net.wait_ready()
        network_figures(net, args.mib, args.rounds, args.repair_objects)
    finally:
        net.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
