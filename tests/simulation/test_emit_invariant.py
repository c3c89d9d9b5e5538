"""``emit_lost`` and ``emit_unearned`` (sim/invariants.py): a step's ``emit`` is sent
when, and only when, the step ends SUCCEEDED, whatever crashed around its success. The
``chain`` shape emits from a step in the middle of an in-process chain (a crash there
is recovered by a replay) and ``callback_run_deadline`` from a callback step whose
success the run's deadline may keep (its emit goes by an emit message). Shown to bite:
an engine that drops each of those sends, and one that sends whatever the outcome."""

from __future__ import annotations

from typing import Any

import pytest

from tests.simulation.test_callback_shapes import _caught, _run


def test_the_emitting_shapes_violate_nothing() -> None:
    for seed in range(40):
        assert not _run("chain", seed), seed
        assert not _run("callback_run_deadline", seed), seed


def test_an_emit_a_success_never_sends_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    from podium.service import attempts

    monkeypatch.setattr(attempts, "emit_signals", lambda *_a, **_k: 0)
    _caught("chain", lambda d: d.startswith("emit_lost"))


def test_an_emit_a_kept_success_never_sends_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """As before the emit message: a success kept at the run's deadline sent nothing."""
    from podium.service import inbox

    monkeypatch.setattr(inbox, "on_emit", lambda *_a, **_k: 0)
    _caught("callback_run_deadline", lambda d: d.startswith("emit_lost"), seeds=200)


def test_an_emit_sent_for_a_step_that_did_not_succeed_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from podium.service import signals
    from podium.service.runtimes import callback

    real = callback.CallbackRuntime.start

    def emits_at_start(self: Any, ctx: Any, attempt: Any) -> Any:
        signals.emit_signals(ctx, attempt.run, attempt.step)
        return real(self, ctx, attempt)

    monkeypatch.setattr(callback.CallbackRuntime, "start", emits_at_start)
    _caught("callback_run_deadline", lambda d: d.startswith("emit_unearned"))
