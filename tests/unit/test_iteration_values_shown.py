"""An iteration's values stored apart (over 4 KiB: service.loops.stored_iteration) were
shown in the iteration views as their reference, ``$payload=…, bytes=…``, as if those
were loop params; and no view showed one iteration's whole values.

A page of iterations shows a ``$stored`` marker saying where to see them (no Payloads
read per iteration); the iteration's own run (``run_view``) carries an ``iteration``
section, read back from Payloads up to the 1 MiB bound of a run's params."""

from __future__ import annotations

import json
from typing import Any

from podium.adapters.payloads import MemoryPayloads
from podium.core.engine.outputs import iteration_key, ref_of
from podium.core.engine.records import RunRecord
from podium.core.engine.status import RunStatus
from podium.service.loop_views import iteration_view
from podium.service.views import run_view

CHILD = "r1.per.3"


def child(iteration: dict[str, Any] | None) -> RunRecord:
    return RunRecord(
        run_id=CHILD,
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


def stored(payloads: MemoryPayloads, values: dict[str, Any]) -> dict[str, Any]:
    """As service.loops.stored_iteration keeps big values: written apart, referenced."""
    data = json.dumps(values, separators=(",", ":")).encode()
    return ref_of(payloads.put(iteration_key(CHILD), data), len(data))


BIG = {"index": 3, "day": "2026-01-03", "rows": ["r" * 100] * 50}  # ~5,200 bytes


def test_a_page_shows_values_stored_apart_as_a_marker_not_as_loop_params() -> None:
    payloads = MemoryPayloads()
    ref = stored(payloads, BIG)
    values = iteration_view(child(ref))["values"]
    size = ref["bytes"]
    assert values["$stored"] == f"{size:,} bytes of JSON, stored apart: podium runs show {CHILD}"
    # The reference's own fields stay (older readers know them): fields added, none renamed.
    assert values["$payload"] == ref["$payload"] and values["bytes"] == size


def test_an_iterations_run_shows_its_index_and_values() -> None:
    view = run_view(child({"index": 3, "day": "2026-01-03", "parent": {"index": 1}}))
    assert view["iteration"] == {"index": 3, "values": {"day": "2026-01-03"}}
    while_view = run_view(child({"index": 3, "state": {"page": 4, "seen": [1, 2]}}))
    assert while_view["iteration"]["values"] == {"state": {"page": 4, "seen": [1, 2]}}
    top = run_view(child(None))
    assert "iteration" not in top  # a run that is no iteration has no such section


def test_values_stored_apart_are_read_back_whole_for_the_iterations_run() -> None:
    from podium.service.loop_views import iteration_section

    payloads = MemoryPayloads()
    run = child(stored(payloads, BIG))
    view = run_view(run, iteration_section(run, payloads))
    assert view["iteration"] == {
        "index": 3,
        "values": {"day": "2026-01-03", "rows": ["r" * 100] * 50},
    }
    # From the record alone (no Payloads at hand): a marker naming where they are.
    alone = run_view(run)["iteration"]["values"]
    assert alone["$stored"].endswith(f"stored apart at {run.iteration['$payload']}")


def test_values_over_the_params_bound_show_their_start_and_where_the_whole_is() -> None:
    from podium.service.loop_views import iteration_section

    payloads = MemoryPayloads()
    huge = {"index": 3, "rows": ["x" * 1000] * 1_100}  # over 1 MiB of JSON
    run = child(stored(payloads, huge))
    section = iteration_section(run, payloads)
    assert section is not None
    values = section["values"]
    size = run.iteration["bytes"] if run.iteration else 0
    assert values["bytes"] == size > 1024 * 1024
    assert values["$cut"].startswith(f"{size:,} bytes of JSON, over the 1,048,576 shown")
    assert run.iteration and run.iteration["$payload"] in values["$cut"]
    assert values["preview"] == json.dumps(huge, separators=(",", ":"))[: 64 * 1024]


def test_values_whose_payload_is_gone_say_so() -> None:
    from podium.service.loop_views import iteration_section

    ref = stored(MemoryPayloads(), BIG)
    section = iteration_section(child(ref), MemoryPayloads())  # another store: not there
    assert section is not None
    assert section["values"]["$stored"].endswith("now gone (expired, or deleted)")
