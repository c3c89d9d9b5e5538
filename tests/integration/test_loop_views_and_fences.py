"""Loops and subworkflows: a subworkflow step's detail (console, `podium runs show
--step`: no iterations, no 500), an empty loop's iterations in --json, the next page's
hint keeping --failed-only, a stop's reason not prefixed at every level, and a loop
ended by a stop racing its launch counting its fenced iterations (3 stores). Found by
a review; each test failed before its fix (its docstring says what was wrong and what
is right)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.engine.actions import RunAction
from podium.core.engine.identity import child_run_id
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime
from podium.service.actions import Actor, run_action
from tests.integration.test_api import call
from tests.integration.test_cli_local import podium

HERE = "tests.integration.test_loop_views_and_fences"


def fail_odd(event: dict[str, Any]) -> int:
    i = int(event["payload"]["i"])
    if i % 2:
        raise ValueError(f"odd {i}")
    return i


@pytest.fixture
def mem() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


KID = {"name": "kid", "steps": [{"id": "n", "type": "noop"}]}
CALLER = {"name": "caller", "steps": [{"id": "sub", "type": "subworkflow", "workflow": "kid"}]}


def test_console_step_detail_of_a_subworkflow_step_is_not_a_500(mem: LocalRuntime) -> None:
    """GET /console/runs/{id}/step?name=<subworkflow step> answers 500 (internal error)
    for every subworkflow step that launched its child: the step carries ``children``
    counts (``loop_counts`` is non-None for any step with a launched mark), so
    ``console_views.step_detail`` asks ``loop_views.iterations`` for its iterations, which
    raises ``NotALoop`` for a subworkflow step, uncaught. The console's step detail of a
    subworkflow step must answer 200 (with no iterations page)."""
    mem.push(KID)
    view = mem.run(CALLER)
    assert view.run.status is RunStatus.SUCCEEDED
    status, body = call("GET", f"/console/runs/{view.run.run_id}/step", query={"name": "sub"})
    assert status == 200, body
    assert body["step"]["status"] == "SUCCEEDED"


def test_runs_show_step_of_a_subworkflow_step_prints_no_traceback(tmp_path: Path) -> None:
    """``podium runs show RUN --step <subworkflow step>`` on the local home dies with a
    Python traceback (``NotALoop: step 'sub' ... is a subworkflow step, not a foreach or
    while``): ``local_commands.show_step`` lists iterations for any step whose view has
    ``children``, and a subworkflow step has them. It must show the step in detail (its
    attempts and output) like any other step, exit 0 for a succeeded one."""
    home = tmp_path / "home"
    (tmp_path / "kid.json").write_text(json.dumps(KID))
    (tmp_path / "caller.json").write_text(json.dumps(CALLER))
    assert podium(home, "run", str(tmp_path / "kid.json")).returncode == 0
    ran = podium(home, "run", str(tmp_path / "caller.json"))
    assert ran.returncode == 0, ran.stderr
    listed = podium(home, "runs", "list", "caller", "--json")
    run_id = json.loads(listed.stdout)["runs"][0]["run_id"]
    shown = podium(home, "runs", "show", run_id, "--step", "sub", "--json")
    assert "Traceback" not in shown.stderr, shown.stderr
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["step"]["status"] == "SUCCEEDED"


FAILING_LOOP = {
    "name": "odd_loop",
    "steps": [
        {
            "id": "each",
            "type": "foreach",
            "over": {"i": "${podium.range(0, 12)}"},
            "on_failure": "continue",
            "tolerated_failures": 12,
            "steps": [
                {
                    "id": "work",
                    "type": "lambda",
                    "function": "loopfns:fail_odd",
                    "payload": {"i": "${iteration.i}"},
                }
            ],
        }
    ],
}


def test_the_next_page_hint_of_failed_only_keeps_failed_only(tmp_path: Path) -> None:
    """``podium runs show RUN --step each --failed-only --limit 2`` prints a hint for the
    next page, ``more: podium runs show RUN --step each --next N``, that drops
    ``--failed-only`` (and ``--limit``): the page token is an index to scan from, so the
    suggested command lists every iteration from N, succeeded ones included, not the
    next failed ones (local_commands.iterations_table builds the caption without the
    options). The hint must carry ``--failed-only`` (the command that shows the next
    page of the same list)."""
    home = tmp_path / "home"
    (tmp_path / "loopfns.py").write_text(
        "def fail_odd(event):\n"
        "    i = event['payload']['i']\n"
        "    if i % 2:\n"
        "        raise ValueError(f'odd {i}')\n"
        "    return i\n"
    )
    spec = tmp_path / "odd.json"
    spec.write_text(json.dumps(FAILING_LOOP))
    ran = podium(home, "run", str(spec))
    assert ran.returncode == 0, ran.stderr
    run_id = json.loads(podium(home, "runs", "list", "odd_loop", "--json").stdout)["runs"][0][
        "run_id"
    ]
    shown = podium(home, "runs", "show", run_id, "--step", "each", "--failed-only", "--limit", "2")
    assert shown.returncode == 0, shown.stderr
    hint = next(line for line in shown.stdout.splitlines() if "more: podium runs show" in line)
    assert "--failed-only" in hint, hint


def test_runs_show_step_json_of_an_empty_loop_has_its_iterations(tmp_path: Path) -> None:
    """docs/workflow-language.md "Seeing iterations": with ``--json`` a loop step's
    iterations are ``{"iterations": [...], "next": ...}`` beside the step's detail. For a
    foreach over an empty list (it succeeds with count 0) or a while whose condition is
    false at once, ``podium runs show RUN --step ID --json`` has no ``iterations`` key at
    all (show_step lists iterations only when the step has ``children`` counts, which
    a loop that launched nothing lacks). It must give ``"iterations": []`` and
    ``"next": null``, the shape the API's iterations page gives for the same step."""
    home = tmp_path / "home"
    doc = {
        "name": "empty_loop",
        "steps": [
            {
                "id": "each",
                "type": "foreach",
                "over": {"i": "${podium.range(0, 0)}"},
                "steps": [{"id": "n", "type": "noop"}],
            }
        ],
    }
    spec = tmp_path / "empty.json"
    spec.write_text(json.dumps(doc))
    assert podium(home, "run", str(spec)).returncode == 0
    run_id = json.loads(podium(home, "runs", "list", "empty_loop", "--json").stdout)["runs"][0][
        "run_id"
    ]
    shown = podium(home, "runs", "show", run_id, "--step", "each", "--json")
    assert shown.returncode == 0, shown.stderr
    body = json.loads(shown.stdout)
    assert body.get("iterations") == [] and "next" in body and body["next"] is None, body


def test_a_stop_reason_is_not_prefixed_again_at_every_nesting_level(mem: LocalRuntime) -> None:
    """Stopping a run with nested loops and subworkflows stops its children's children
    with a reason that grows a ``stopped: `` prefix per level: the iteration reads
    ``stopped: stopped by alice``, its inner loop's iteration and its subworkflow's run
    ``stopped: stopped: stopped by alice`` (ten levels deep, ten prefixes). Each runtime's
    ``terminate`` (runtimes/foreach.py, while_loop.py, subworkflow.py) wraps the reason it
    is given, which is already the stopped parent's ``stopped: ...`` reason. A nested
    child must carry the same reason as the level above (no repeated prefix)."""
    mem.push({"name": "kid", "steps": [{"id": "nap", "type": "sleep", "seconds": 100}]})
    mem.push(
        {
            "name": "nest_stop",
            "steps": [
                {
                    "id": "outer",
                    "type": "foreach",
                    "over": {"i": [0]},
                    "steps": [
                        {
                            "id": "inner",
                            "type": "foreach",
                            "over": {"j": [0]},
                            "steps": [{"id": "nap", "type": "sleep", "seconds": 100}],
                        },
                        {"id": "sub", "type": "subworkflow", "workflow": "kid"},
                    ],
                }
            ],
        }
    )
    run = mem.start_run("nest_stop")
    mem.pump(wait=False)
    run_action(mem.services, run.run_id, RunAction.STOP, Actor("alice"))
    mem.pump()
    store = mem.services.store
    iteration = store.get_run(child_run_id(run.run_id, "outer", 0))
    inner = store.get_run(child_run_id(iteration.run_id, "inner", 0))
    sub = store.get_run(child_run_id(iteration.run_id, "sub", 0))
    assert iteration.status is inner.status is sub.status is RunStatus.STOPPED
    for child in (inner, sub):
        assert "stopped: stopped:" not in (child.reason or ""), child.reason


@pytest.fixture(params=["memory", "sqlite", "moto"])
def store_rt(request: pytest.FixtureRequest) -> Iterator[LocalRuntime]:
    home = {"home": ":memory:"} if request.param == "sqlite" else {}
    with LocalRuntime(store=request.param, clock=ManualClock(), **home) as runtime:
        yield runtime


@pytest.mark.parametrize("way", ["queued", "instant"])
def test_a_loop_ended_by_a_stop_racing_its_launch_shows_no_iteration_running(
    store_rt: LocalRuntime, way: str
) -> None:
    """A stop that races a foreach's launch (the loop closes after the launcher opened
    indexes 2 and 3, before it created them) fences those indexes with STOPPED children
    ("not started: its loop ended", docs: Failures). The fences are created settled and
    never counted (service/loops.py close_loop skips settled children; _fence), but the
    launcher still raises the launched mark over them, so the ended loop step reports
    ``children: {launched: 4, running: 2, succeeded: 2, stopped: 0}`` forever (GET
    /runs/{id}, ``podium run``'s "2 running · 2 succeeded", the iterations page's
    counts) although both are STOPPED. Once the loop has ended and every child is
    terminal, no iteration may be counted running; the fenced ones are stopped. The
    same for iterations written already ended (service/instant_iterations.py), whose
    steps, written before the run's create found the fence, are taken back: a fence ran
    none of them."""
    from podium.bench.loops import foreach as noop_loop
    from podium.service.lifecycle import stop_run
    from podium.service.loop_views import loop_counts
    from tests.conftest import queued_noop_loop

    mem = store_rt
    ctx, store = mem.services, mem.services.store
    create_run = store.create_run
    raced: list[str] = []

    def create(child: Any) -> None:
        # The launcher of children 2 and 3 opened them; the run is stopped before it
        # creates the first (the stop fences both), then its create conflicts.
        if child.parent_step == "each" and child.parent_index == 2 and not raced:
            raced.append(child.parent_run)
            stop_run(ctx, child.parent_run, "stopped by the test")
        create_run(child)

    store.create_run = create  # type: ignore[method-assign]
    mem.push((queued_noop_loop if way == "queued" else noop_loop)(4, concurrency=2))
    run = mem.start_run("w4_4").run_id
    mem.pump()
    assert raced and store.get_run(run).status is RunStatus.STOPPED
    children = store.get_runs([child_run_id(run, "each", i) for i in range(4)])
    assert all(c.status.terminal for c in children.values())
    record = store.get_step(run, "each")
    assert record is not None and record.status.terminal
    counts = loop_counts(record)
    assert counts is not None
    assert counts["running"] == 0, counts
    assert counts["succeeded"] + counts["failed"] + counts["stopped"] == counts["launched"]
    fenced = [c for c in children.values() if c.reason == "not started: its loop ended"]
    assert fenced and all(store.list_steps(c.run_id) == [] for c in fenced)


def test_an_over_that_is_not_a_list_is_said_once(mem: LocalRuntime) -> None:
    """A loop param whose expression gave a string failed the step with "over: over.i
    must be a list" (the place said twice: the runtime prefixed a message that names
    it already). Said once now."""
    mem.push(
        {
            "name": "not_a_list",
            "params": {"p": {"type": "string", "default": "abc"}},
            "steps": [
                {
                    "id": "each",
                    "type": "foreach",
                    "over": {"i": "${params.p}"},
                    "steps": [{"id": "n", "type": "noop"}],
                }
            ],
        }
    )
    run = mem.start_run("not_a_list").run_id
    mem.pump()
    step = mem.store.get_step(run, "each")
    assert step is not None and step.error is not None
    assert step.error.startswith("over.i must be a list"), step.error


def test_a_subworkflow_whose_child_timed_out_is_retried_by_a_timeout_retrier(
    mem: LocalRuntime,
) -> None:
    """A subworkflow step whose child run ended TIMED_OUT failed not retryable, so a
    retrier naming Podium.Timeout never retried it (docs: a retrier naming
    Podium.Timeout retries timeouts). It is retried now, each retry a new child."""
    mem.push(
        {
            "name": "slow_kid",
            "timeout": 60,
            "steps": [{"id": "nap", "type": "sleep", "seconds": 120}],
        }
    )
    mem.push(
        {
            "name": "calls_slow",
            "steps": [
                {
                    "id": "sub",
                    "type": "subworkflow",
                    "workflow": "slow_kid",
                    "retry": [{"errors": ["Podium.Timeout"], "max_attempts": 1, "interval": 1}],
                }
            ],
        }
    )
    run = mem.start_run("calls_slow").run_id
    mem.pump()
    step = mem.store.get_step(run, "sub")
    assert step is not None and step.status.value == "TIMED_OUT", step
    assert step.attempt == 2, step.attempt
    kids = mem.store.get_runs([child_run_id(run, "sub", i) for i in range(2)])
    assert [k.status for k in kids.values()] == [RunStatus.TIMED_OUT] * 2


def test_an_iteration_its_loop_stopped_says_why(mem: LocalRuntime) -> None:
    """An iteration a fail_fast loop stopped was listed (`podium runs show --step`, the
    API, the console's grid) as STOPPED with no error: nothing said why. Its error is
    why it stopped (its run's reason)."""
    from podium.service.loop_views import iterations

    mem.push(
        {
            "name": "fast",
            "steps": [
                {
                    "id": "each",
                    "type": "foreach",
                    "over": {"i": [0, 1]},
                    "on_failure": "fail_fast",
                    "steps": [
                        {
                            "id": "check",
                            "type": "lambda",
                            "function": f"{HERE}:fail_odd",
                            "payload": {"i": "${iteration.i}"},
                        },
                        {"id": "nap", "type": "sleep", "seconds": 86400, "depends_on": ["check"]},
                    ],
                }
            ],
        }
    )
    run = mem.start_run("fast")
    mem.pump()
    assert mem.store.get_run(run.run_id).status is RunStatus.FAILED
    page = iterations(mem.services, run.run_id, "each")
    assert page is not None
    rows = {row["index"]: row for row in page["iterations"]}
    assert rows[1]["status"] == "FAILED" and "odd 1" in rows[1]["error"]
    assert rows[0]["status"] == "STOPPED"
    assert rows[0]["error"] and "stopped" in rows[0]["error"], rows[0]
