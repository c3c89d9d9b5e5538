"""An ``emit`` whose payload no send accepts was accepted at push, and its signal never
sent: each success logged "emit 0 ... refused: payload is 70,011 bytes, over the limit
of 65,536" (or "not valid Unicode" for a lone surrogate), the run SUCCEEDED and nothing
waiting on the signal ever woke. The push refused literal emit params no send accepts
for exactly this reason (core/dsl/signals.py ``SignalEmit``), not the payload; a lone
surrogate in a payload's key crashed the push (UnicodeEncodeError) instead."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="sqlite", home=":memory:", clock=ManualClock()) as runtime:
        yield runtime


def emitting(payload: Any) -> dict[str, Any]:
    return {
        "name": "emits",
        "steps": [{"id": "a", "type": "noop", "emit": [{"signal": "done", "payload": payload}]}],
    }


def test_an_emit_whose_literal_payload_is_over_64_kib_is_refused_at_push(
    rt: LocalRuntime,
) -> None:
    """A literal payload of 70,000 bytes (no template: its size is known at push) was
    accepted and never sent; the push now refuses it, naming
    steps[0].emit[0].payload and the 64 KiB limit."""
    with pytest.raises(DefinitionError) as refused:
        rt.push(emitting({"blob": "x" * 70_000}))
    assert "steps[0].emit[0].payload" in str(refused.value)
    assert "65,536" in str(refused.value)


def test_literal_parts_over_64_kib_beside_a_template_are_refused_at_push(
    rt: LocalRuntime,
) -> None:
    """A template renders to one byte at least: literal parts over the limit are over
    it whatever the templates give."""
    with pytest.raises(DefinitionError, match=r"literal parts alone are 70,0\d\d bytes"):
        rt.push(emitting({"run": "${run.id}", "blob": "x" * 70_000}))


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"note": "a\ud800"}, id="in-a-value"),
        pytest.param({"k\ud800": 1}, id="in-a-key"),
    ],
)
def test_an_emit_payload_with_a_lone_surrogate_is_refused_at_push(
    rt: LocalRuntime, payload: dict[str, Any]
) -> None:
    with pytest.raises(DefinitionError, match="not valid Unicode") as refused:
        rt.push(emitting(payload))
    assert "steps[0].emit[0].payload" in str(refused.value)


def test_a_payload_at_the_limit_is_pushed_and_sent(rt: LocalRuntime) -> None:
    """Guard: a payload of exactly 64 KiB (as a send measures it) is a valid emit, and
    its signal is sent when the step succeeds."""
    filler = "x" * (65_536 - len('{"blob":""}'))
    view = rt.run(emitting({"blob": filler}))
    assert view.run.status is RunStatus.SUCCEEDED
    assert rt.services.signals is not None
    heads = rt.services.signals.find_heads("done", (), now=rt.services.now(), size=10)
    assert len(heads.heads) == 1
