"""The console's step detail shows a big output (stored by reference past 8 KiB) as the
step returned it: it showed the reference (`{"$payload": "file:///...", "bytes": n}`,
an `s3://` URI on a stack) while `podium runs show --step` printed the value."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.local.runtime import LocalRuntime
from podium.service import console_views

HERE = "tests.unit.test_console_big_values"


def big(event: dict[str, Any]) -> Any:
    return {"rows": ["x" * 100] * int(event["payload"]["n"])}


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def detail_of(rt: LocalRuntime, n: int) -> dict[str, Any]:
    rt.push(
        {
            "name": "big",
            "steps": [
                {"id": "a", "type": "lambda", "function": f"{HERE}:big", "payload": {"n": n}}
            ],
        }
    )
    run = rt.start_run("big")
    rt.pump()
    return console_views.step_detail(rt.services, run.run_id, "a")["step"]


def test_a_big_output_is_shown_as_its_value(rt: LocalRuntime) -> None:
    assert detail_of(rt, 200)["output"] == {"rows": ["x" * 100] * 200}


def test_a_huge_output_keeps_its_reference_with_a_preview(
    rt: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_views, "SHOWN_VALUE_BYTES", 10_000)
    shown = detail_of(rt, 200)["output"]
    assert shown["$payload"] and shown["bytes"] > 10_000 and shown["cut"] is True
    assert shown["preview"].startswith('{"rows":["xxx') and len(shown["preview"]) < 70_000
