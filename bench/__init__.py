"""Benchmarks: ``python -m bench --messages 200000`` (see docs/BENCHMARKS.md)."""
