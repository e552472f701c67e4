"""`meshwork-bench`: the entry point of the benchmark image.

  meshwork-bench pow <challenge_hex> <difficulty> <count>  → {"nonces": [...]}
  meshwork-bench matmul <seed_hex> <n> [--output DIR]      → DIR/c.f32 (row-major float32 LE),
                                                             prints {"n", "root", "seconds"}
  meshwork-bench specs                                     → {"cpu_model", "cpu_cores", ...}
One JSON line on stdout; errors are one line on stderr and exit code 2."""

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from protocol.benchmarks.hashwork import pow_solve
from protocol.benchmarks.product import commit_rows, matmul_compute
from protocol.benchmarks.specs import host_specs


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="meshwork-bench")
    verbs = parser.add_subparsers(dest="verb", required=True)
    pow_ = verbs.add_parser("pow")
    pow_.add_argument("challenge_hex")
    pow_.add_argument("difficulty", type=int)
    pow_.add_argument("count", type=int)
    matmul = verbs.add_parser("matmul")
    matmul.add_argument("seed_hex")
    matmul.add_argument("n", type=int)
    matmul.add_argument("--output", type=Path, default=Path("/output"))
    verbs.add_parser("specs")
    return parser


def _run(args: argparse.Namespace) -> dict[str, object]:
    if args.verb == "pow":
        nonces = pow_solve(challenge=bytes.fromhex(args.challenge_hex), difficulty=args.difficulty, count=args.count)
        return {"nonces": nonces}
    if args.verb == "matmul":
        started = time.monotonic()
        c = matmul_compute(seed=bytes.fromhex(args.seed_hex), n=args.n)
        c.astype("<f4", copy=False).tofile(args.output / "c.f32")
        root, _ = commit_rows(c)
        return {"n": args.n, "root": root.hex(), "seconds": round(time.monotonic() - started, 3)}
    return host_specs()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = _run(args)
    except (ValueError, OSError) as error:
        print(f"meshwork-bench: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
