"""Micro-benchmarks for Podium components (not imported at runtime)."""
