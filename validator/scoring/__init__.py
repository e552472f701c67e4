"""Scores per cycle, per miner, per class (docs/scoring.md): inputs, the formula, the tick."""
