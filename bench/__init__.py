"""Pheu benchmarks: `make bench` (never in CI; timings never go into tests)."""
