"""Which signal trigger conditions read a payload (core/engine/signals.py
``condition_reads_payload``): a join evaluates one that reads only params and ids on the
partners' heads, and reads the payloads of the set it starts only."""

from __future__ import annotations

import pytest

from podium.core.engine.signals import condition_reads_payload
from podium.core.expr import compile_expression


def reads(source: str) -> bool:
    return condition_reads_payload(source, compile_expression(source).references)


@pytest.mark.parametrize(
    "source",
    [
        "event.signals.a.params.n > 3",
        "event.signals.a.params.day == event.signals.b.params.day",
        "has(event.signals.a.params.n) && event.signals.a.signal_id != ''",
        "event.kind == 'signal' && event.trigger == 't' && size(event.signals.a.params) > 0",
        "event.signals.a.params.tags.exists(t, t == 'x')",
        "event.signals['a'].params.n > 1",  # an index by a literal is a field (core/expr/refs)
        "true",
    ],
)
def test_params_and_ids_only(source: str) -> None:
    assert not reads(source)


@pytest.mark.parametrize(
    "source",
    [
        "event.signals.a.payload.ok",
        "has(event.signals.a.payload)",
        "size(event.signals.b.payload.rows) > 0 && event.signals.a.params.n > 1",
        "event.signals.a == event.signals.b",  # whole signals
        "size(event.signals) == 2",
        "event.signals[params_name].params.n > 1",  # a computed index: the path stops
        "event.signals['x.params'].payload != null",  # a key with a dot: it stops too
        "event.signals.exists(n, event.signals[n].payload != null)",
        "event != null",
        # A backquoted field may hold a dot: `x.params` is a signal's name here.
        "event.signals.`x.params` != null",
    ],
)
def test_anything_that_may_reach_a_payload(source: str) -> None:
    assert reads(source)
