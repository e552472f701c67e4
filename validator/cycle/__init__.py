"""The benchmark cycle: every executor of every miner is challenged at the same moment, under a
deadline only the claimed hardware meets, and every verdict is recorded with its reason.

- `plan`: which challenge each executor gets (secrets, difficulty, deadlines).
- `manifest_checks`: what a manifest claims that its own specs (or another hotkey) contradict.
- `session`: one miner's part of one phase: send, time, open, verify.
- `run`: the whole run: dial, manifests, the proof-of-work phase, then the matmul phase, record.
"""
