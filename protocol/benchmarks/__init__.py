"""Benchmark maths shared by the validator (checks) and the benchmark image (compute).

The image-side modules (generator, merkle, product, hashwork, specs, cli) use the standard library
and numpy only: deploy/images/build-bench.sh copies them into `meshwork/bench:1`. The
validator-facing modules `matmul` and `pow` add the checks, which speak the wire types."""
