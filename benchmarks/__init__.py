"""`make bench` = `python -m benchmarks.run`: measured speed and memory (see README.md)."""
