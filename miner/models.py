"""Models of the miner role."""
