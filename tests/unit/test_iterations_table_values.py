"""``podium runs show RUN --step LOOP`` (local and deployed draw the same table from the
view's JSON) printed each value with Python's repr: a value the view cut was a raw dict
(``{'$cut': ..., 'preview': ...}`` with its 5,000 characters), values stored apart were
``$payload=…, bytes=…`` as if loop params. Markers are said in words, values in JSON."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from podium.cli.local_commands import iterations_table
from podium.cli.remote_render import run_summary

CUT = {
    "$cut": (
        "206,001 characters of JSON, cut to the first 5,000: the iteration's steps read"
        " it whole as iteration.record"
    ),
    "chars": 206_001,
    "preview": '{"rows":["' + "x" * 4_990,
}
STORED = {
    "$stored": "5,120 bytes of JSON, stored apart: podium runs show r1.per.2",
    "$payload": "s3://payloads/r1.per.2/iteration.json",
    "bytes": 5_120,
}


def drawn(thing: Any) -> str:
    console = Console(record=True, width=200, color_system=None)
    console.print(thing)
    return console.export_text()


def page(*values: dict[str, Any]) -> dict[str, Any]:
    return {
        "step": "per",
        "counts": {"launched": 3, "running": 0, "succeeded": 3, "failed": 0, "stopped": 0},
        "iterations": [
            {
                "index": i,
                "values": v,
                "status": "SUCCEEDED",
                "run_id": f"r1.per.{i}",
                "duration_ms": 10,
                "error": None,
            }
            for i, v in enumerate(values)
        ],
        "next": None,
    }


def test_markers_are_said_in_words_and_values_shown_as_json() -> None:
    text = drawn(
        iterations_table(
            page({"day": "2026-01-03", "m": {"a": [1, None]}}, {"record": CUT}, STORED), "r1"
        )
    )
    assert 'day=2026-01-03, m={"a":[1,null]}' in text
    assert 'record={"rows":["xxxx' in text and "(206,001 characters, cut)" in text
    assert "5,120 bytes of JSON, stored apart: podium runs show r1.per.2" in text
    for raw in ("{'", "$payload", "$cut", "$stored", "x" * 200):
        assert raw not in text, raw


def test_an_iterations_run_shows_its_values_whole_or_what_its_marker_says() -> None:
    run: dict[str, Any] = {
        "status": "SUCCEEDED",
        "trigger": "foreach",
        "parent_step": "per",
        "iteration": {"index": 2, "values": {"day": "2026-01-03", "rows": ["r" * 300]}},
    }
    text = run_summary(run).plain
    assert 'iteration 2 of per: {"day": "2026-01-03", "rows": ["' + "r" * 300 + '"]}' in text
    run["iteration"] = {"index": 2, "values": STORED}
    text = run_summary(run).plain
    assert "iteration 2 of per: 5,120 bytes of JSON, stored apart" in text
    assert "$payload" not in text
