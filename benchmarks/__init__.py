"""Benchmarks of issue 6: `make bench` = `python -m benchmarks.run` (see README.md)."""
