"""Benchmarks and data generators; never run by `make test`. See BENCHMARKS.md."""
