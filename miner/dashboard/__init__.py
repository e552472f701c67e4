"""The miner's admin pages of charts."""
