"""Benchmarks: bench data at scale and `make bench`."""
