"""Benchmarks a validator asks of this miner: `session.BenchmarkSession` runs a `BenchmarkStart`'s
challenges (each as a real job in the executor it names) and answers `OpenRequest`s from the
matmul commitments kept in `commitments.COMMITMENTS`."""
