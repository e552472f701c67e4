"""Scores per cycle, per miner, per class (docs/scoring-scores.md): inputs, the formula, the tick."""
