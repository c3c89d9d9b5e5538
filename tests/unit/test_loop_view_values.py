"""A loop step's iteration view showed each iteration's loop values whole: a loop param
holding a huge value (a big record, a while's growing state) was in every page of
iterations, up to 500 a page, read every 2 s by a live console. Each value is shown up
to MAX_VALUE_CHARS characters of its JSON text (the console's cut), then cut with a
marker saying so."""

from __future__ import annotations

import json

from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus
from podium.service.loop_views import iteration_view

MAX_VALUE_CHARS = 5_000  # loop_views.MAX_VALUE_CHARS: the console's cut


def child(iteration: dict[str, object]) -> RunRecord:
    return RunRecord(
        run_id="r1.per.3",
        workflow="wf/per",
        version=1,
        status=RunStatus.SUCCEEDED,
        params={},
        created_at=0,
        sinks_total=1,
        parent_run="r1",
        parent_step="per",
        parent_index=3,
        iteration=iteration,
    )


def test_a_huge_value_is_cut_with_a_marker_and_the_others_stay_whole() -> None:
    huge = {"rows": ["x" * 100] * 2_000}  # ~206,000 characters of JSON
    view = iteration_view(child({"index": 3, "record": huge, "day": "2026-01-03"}))
    assert view["values"]["day"] == "2026-01-03"
    shown = view["values"]["record"]
    text = json.dumps(huge, separators=(",", ":"))
    assert shown["chars"] == len(text)
    assert shown["preview"] == text[:MAX_VALUE_CHARS]
    assert f"{len(text):,} characters of JSON, cut to the first 5,000" in shown["$cut"]
    assert "iteration.record" in shown["$cut"]
    assert len(json.dumps(view)) < 2 * MAX_VALUE_CHARS  # not ~200 KB


def test_values_up_to_the_limit_are_shown_as_they_are() -> None:
    exact = "y" * (MAX_VALUE_CHARS - 2)  # its JSON text has the quotes: exactly the limit
    values = iteration_view(child({"s": exact, "t": exact + "y", "m": {"a": [1, None]}}))["values"]
    assert values["s"] == exact and values["m"] == {"a": [1, None]}
    assert values["t"]["chars"] == MAX_VALUE_CHARS + 1


def test_a_page_of_iterations_is_bounded() -> None:
    views = [iteration_view(child({"index": i, "v": "z" * 50_000})) for i in range(100)]
    size = len(json.dumps(views))
    assert size < 100 * (MAX_VALUE_CHARS + 400), size
