"""The fuzz harness itself (scripts/fuzz): it generates every family, evaluates in
worker subprocesses, and its wall-clock guard turns a stuck case into a counted hang."""

from __future__ import annotations

from collections import Counter

import pytest

from podium.bench import fuzz


def test_generator_covers_every_family_and_is_seeded() -> None:
    cases = list(fuzz.generate(3000, seed=11))
    assert cases == list(fuzz.generate(3000, seed=11))
    families = Counter(family for family, _, _ in cases)
    names = {f"adversarial.{name}" for name, _, _ in fuzz.ADVERSARIAL}
    assert {"grammar", "soup"} | names <= set(families)
    sources = [src for _, src, _ in cases]
    assert any("\ud800" in s or "\\ud800" in s for s in sources)
    assert any(len(s) > 4096 for s in sources)
    assert any("9223372036854775807" in s for s in sources)


def test_a_small_run_finds_no_escape_hang_or_crash() -> None:
    report = fuzz.run_fuzz(300, seed=3, batch_size=150)
    assert report.cases == 300
    assert (report.escapes, report.hangs, report.crashes) == (0, 0, 0), report.examples


def test_the_guard_counts_a_stuck_case_as_a_hang_and_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PODIUM_FUZZ_STALL", "stuck")  # the worker sleeps on this case
    batch = [("grammar", "1 + 1", False), ("soup", "stuck", False), ("grammar", "'a'", False)]
    report = fuzz.run_batch(batch, guard=2.0)
    assert report.cases == 3
    assert report.hangs == 1 and report.outcomes["hang"] == 1
    assert report.outcomes["ok"] == 2  # a new worker took the case after the hang
