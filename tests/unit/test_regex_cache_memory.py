"""Compiled regular expressions are cached (core/expr/functions.py), and each may grow
to its RE2 ``max_mem`` (8 MiB) as it matches: 256 of them were kept, 2 GiB at worst
(measured: 561 MB for 256 patterns of 270 characters after two searches each), past a
Lambda's memory (the events function, which evaluates trigger conditions, has 256 MB).
A workflow that builds its patterns from params or loop values (one per iteration)
filled it. The cache holds at most 128 MiB's worth now."""

from __future__ import annotations

from podium.core.expr import functions


def test_the_regex_cache_holds_at_most_128_mib_of_compiled_patterns() -> None:
    kept = functions._compiled_regex.cache_info().maxsize
    assert kept is not None
    assert kept * functions._RE2_OPTIONS.max_mem <= 128 << 20, kept
