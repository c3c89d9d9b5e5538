"""Loop and subworkflow definitions: what push refuses (names a loop expression reads,
loop params, booleans for numbers) and what a while's nested state renders."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from podium.adapters.clock import ManualClock
from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition, validate_definition
from podium.core.engine.status import RunStatus
from podium.local.runtime import LocalRuntime

HERE = "tests.unit.test_loop_definition_checks"


def echo(event: dict[str, Any]) -> Any:
    return {"loss": 0.5, **event["payload"]}


@pytest.fixture
def mem() -> Iterator[LocalRuntime]:
    with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
        yield runtime


def issues_of(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(DefinitionError) as exc:
        validate_definition(doc)
    return [f"{i.path}: {i.message}" for i in exc.value.issues]


def while_doc(**loop: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "id": "w",
        "type": "while",
        "state": {"n": 0},
        "condition": "state.n < 2",
        "update": {"n": "${state.n + 1}"},
        "steps": [{"id": "t", "type": "lambda", "function": f"{HERE}:echo"}],
    }
    step.update(loop)
    return {"name": "wl", "params": {"x": {"type": "int", "default": 5}}, "steps": [step]}


def foreach_doc(over: dict[str, Any], payload: Any = None, **loop: Any) -> dict[str, Any]:
    inner = {"id": "t", "type": "lambda", "function": f"{HERE}:echo", "payload": payload or {}}
    step = {"id": "each", "type": "foreach", "over": over, "steps": [inner], **loop}
    return {"name": "fe", "params": {"days": {"type": "list", "default": [1]}}, "steps": [step]}


# ---- A: a while's state and update hold templates anywhere, like a payload ------------


def test_a_nested_template_in_a_while_state_or_update_is_checked_at_push() -> None:
    bad_syntax = while_doc(state={"n": 0, "cfg": {"limit": "${params.nope + }"}})
    assert issues_of(bad_syntax)[0].startswith("steps[0].state.cfg.limit: missing operand")
    bad_param = while_doc(state={"n": 0, "cfg": {"limit": ["${params.nope}"]}})
    assert issues_of(bad_param) == ["steps[0].state.cfg.limit[0]: unknown param 'nope' (column 3)"]
    bad_state = while_doc(state={"n": 0, "cfg": {}}, update={"cfg": {"seen": "${state.nn}"}})
    assert issues_of(bad_state)[0].startswith(
        "steps[0].update.cfg.seen: state has no field 'nn' (column 3) (did you mean 'n'?)"
    )


def test_a_nested_template_in_a_while_state_and_update_renders(mem: LocalRuntime) -> None:
    doc = while_doc(
        state={"n": 0, "cfg": {"limit": "${params.x}"}, "lst": ["${params.x}", 1]},
        update={
            "n": "${state.n + 1}",
            "cfg": {"limit": "${state.cfg.limit}", "seen": "${state.n}"},
        },
    )
    view = mem.run(doc)
    assert view.run.status is RunStatus.SUCCEEDED
    w = next(s for s in view.steps if s.step == "w")
    assert w.output == {
        "iterations": 2,
        "state": {"n": 2, "cfg": {"limit": 5, "seen": 1}, "lst": [5, 1]},
    }


def test_a_nested_update_reads_the_iterations_steps(mem: LocalRuntime) -> None:
    doc = while_doc(
        state={"n": 0, "cfg": {"loss": 1.0}},
        update={"n": "${state.n + 1}", "cfg": {"loss": "${steps.t.output.loss}"}},
    )
    view = mem.run(doc)
    assert view.run.status is RunStatus.SUCCEEDED
    w = next(s for s in view.steps if s.step == "w")
    assert w.output["state"] == {"n": 2, "cfg": {"loss": 0.5}}


# ---- B: a loop param may not take the name of a built-in of iteration -----------------


@pytest.mark.parametrize("name", ["index", "parent"])
def test_a_loop_param_named_like_a_built_in_is_refused(name: str) -> None:
    found = issues_of(foreach_doc({name: [1, 2], "day": [1]}))
    assert len(found) == 1
    assert found[0].startswith("steps[0].over: ")
    assert f"over.{name}: the name is reserved" in found[0]
    assert "rename the loop param" in found[0]


# ---- C: names a loop's expressions read are checked like a payload's ------------------


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            while_doc(condition="run.started_at != null && state.n < 3"),
            "steps[0].condition: run has no field 'started_at' (column 1) (did you mean"
            " 'start_time'?)",
        ),
        (
            while_doc(update={"n": "${run.started_at}"}),
            "steps[0].update.n: run has no field 'started_at'",
        ),
        (
            while_doc(state={"n": "${run.started_at}"}),
            "steps[0].state.n: run has no field 'started_at'",
        ),
        (
            while_doc(update={"n": "${steps.t.outptu}"}),
            "steps[0].update.n: steps.t.outptu (column 3) does not exist; use steps.t.output",
        ),
        (
            while_doc(update={"n": "${steps.tt.output}"}),
            "steps[0].update.n: unknown step 'tt' (column 3) (did you mean 't'?)",
        ),
        (
            while_doc(condition="state.nn < 3"),
            "steps[0].condition: state has no field 'nn' (column 1) (did you mean 'n'?); its"
            " fields are: n; declare it in the while's state",
        ),
        (
            while_doc(condition="iteration.state.nn < 3"),
            "steps[0].condition: iteration.state has no field 'nn'",
        ),
        (
            while_doc(condition="iteration.idx < 3"),
            "steps[0].condition: iteration has no field 'idx' (column 1) (did you mean"
            " 'index'?); its fields are: index, parent, state",
        ),
        (
            foreach_doc({"day": [1, 2]}, {"d": "${iteration.dya}"}),
            "steps[0].steps[0].payload.d: iteration has no field 'dya' (column 3) (did you"
            " mean 'day'?); its fields are: day, index, parent",
        ),
        (
            foreach_doc({"region": "emea"}),
            "steps[0].over.region: 'emea' is text, not a list; write a list (region: [emea])",
        ),
        (
            foreach_doc({"region": "${1}"}),
            "steps[0].over.region: '${1}' gives int, not a list",
        ),
        (
            foreach_doc({"region": "a-${1}"}),
            "steps[0].over.region: 'a-${1}' gives string, not a list",
        ),
    ],
)
def test_a_name_a_loop_expression_cannot_read_is_refused_at_push(
    doc: dict[str, Any], expected: str
) -> None:
    found = issues_of(doc)
    assert any(issue.startswith(expected) for issue in found), found


def test_the_fields_of_an_enclosing_loops_iteration_are_checked() -> None:
    inner = foreach_doc({"day": [1]}, {"r": "${iteration.parent.regoin}"})["steps"][0]
    doc = {"name": "n", "steps": [{"id": "o", "type": "foreach", "over": {"region": ["a"]}}]}
    doc["steps"][0]["steps"] = [inner]
    assert issues_of(doc) == [
        "steps[0].steps[0].steps[0].payload.r: iteration.parent has no field 'regoin' (column 3)"
        " (did you mean 'region'?); its fields are: index, parent, region"
    ]
    fit = while_doc(condition="state.n < iteration.parent.kk")["steps"][0]
    doc = {"name": "m", "steps": [{"id": "o", "type": "foreach", "over": {"k": [1]}}]}
    doc["steps"][0]["steps"] = [fit]
    assert issues_of(doc)[0].startswith(
        "steps[0].steps[0].condition: iteration.parent has no field 'kk'"
    )


def test_what_a_loop_may_read_is_still_accepted() -> None:
    payload = {
        "i": "${iteration.index}",
        "d": "${iteration.day.sub}",  # a loop value: anything may be inside
        "p": "${has(iteration.parent) ? 1 : 0}",  # no parent at the top: a correct test
        "o": "${run.start_time}",
    }
    over = {"day": [{"sub": 1}], "r": "${podium.range(0, 3)}", "q": "${params.days}"}
    validate_definition(foreach_doc(over, payload))
    body = {
        "id": "t",
        "type": "lambda",
        "function": f"{HERE}:echo",
        "payload": {
            "n": "${state.n + iteration.state.n + iteration.index}",
            "k": "${iteration.parent.k + iteration.parent.index}",
        },
    }
    fit = while_doc(
        state={"n": "${params.x}", "m": {"deep": ["${run.logical_date}"]}},
        condition="state.n < iteration.parent.k && iteration.state.m.deep.size() > 0",
        update={"n": "${state.n + steps.t.output.loss}", "m": {"deep": ["${steps.t.params}"]}},
        steps=[body],
    )["steps"][0]
    nested = {
        "id": "o",
        "type": "foreach",
        "over": {"k": [1, 2]},
        "steps": [fit, {"id": "z", "type": "noop", "depends_on": ["w"]}],
    }
    validate_definition({"name": "ok", "params": while_doc()["params"], "steps": [nested]})


# ---- D: a boolean is not a number of a loop or a subworkflow --------------------------


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"concurrency": True}, "concurrency"),
        ({"tolerated_failures": True, "on_failure": "continue"}, "tolerated_failures"),
        ({"max_iterations": True}, "max_iterations"),
        ({"version": True}, "version"),
        ({"version": False}, "version"),
    ],
)
def test_a_boolean_for_a_number_is_refused(step: dict[str, Any], field: str) -> None:
    if field == "max_iterations":
        doc = while_doc(**step)
    elif field == "version":
        doc = {"name": "s", "steps": [{"id": "s", "type": "subworkflow", "workflow": "child"}]}
        doc["steps"][0].update(step)
    else:
        doc = foreach_doc({"x": [1]}, **step)
    found = issues_of(doc)
    assert len(found) == 1, found
    assert found[0].startswith(f"steps[0].{field}: ")
    assert f"{field} must be" in found[0] and "not the boolean" in found[0]


def test_numbers_are_still_accepted() -> None:
    validate_definition(foreach_doc({"x": [1]}, concurrency=5))
    validate_definition(
        foreach_doc({"x": [1]}, tolerated_failures=2, on_failure="continue"),
    )
    validate_definition(
        foreach_doc({"x": [1]}, tolerated_failures="10%", on_failure="continue"),
    )
    validate_definition(while_doc(max_iterations=3))
    for version in (3, "active", "latest"):
        step = {"id": "s", "type": "subworkflow", "workflow": "child", "version": version}
        validate_definition({"name": "s", "steps": [step]})


@pytest.mark.parametrize(
    ("version", "said"),
    [
        (10**400, "is not a version: use active, latest or a version number from 1 to"),
        (10**9 + 1, "1000000001 is not a version"),
        ("latst", "(did you mean 'latest'?)"),
        (0, "0 is not a version"),
    ],
    ids=["huge", "past-1e9", "typo", "zero"],
)
def test_a_subworkflow_version_out_of_range_is_refused_at_push_in_one_message(
    version: object, said: str
) -> None:
    """A subworkflow's ``version`` of 10**400 was accepted at push while the called
    workflow was not pushed yet (refused only at run time, by a store that cannot hold
    it), and a bad one was answered in pydantic's words, once per member of the union
    ("Input should be 'active' or 'latest'" and "Input should be greater than or equal
    to 1"). One message now, naming the range the API takes (1 to 10**9)."""
    definition = {
        "name": "w",
        "steps": [{"id": "s", "type": "subworkflow", "workflow": "other", "version": version}],
    }
    with pytest.raises(DefinitionError) as info:
        load_definition(json.dumps(definition))
    problems = [str(i) for i in info.value.issues]
    assert len(problems) == 1 and said in problems[0], problems
    assert problems[0].startswith("steps[0].version: ")


def test_the_nesting_limit_says_subworkflows_count_too() -> None:
    """The nesting limit's message told to "flatten the inner ones into a subworkflow",
    which counts toward the same limit: it says so now."""
    body: dict[str, Any] = {"id": "n", "type": "noop"}
    for level in range(11):
        body = {"id": f"l{level}", "type": "foreach", "over": {"i": [1]}, "steps": [body]}
    with pytest.raises(DefinitionError) as info:
        load_definition(json.dumps({"name": "deep", "steps": [body]}))
    said = str(info.value)
    assert "a subworkflow counts as a level" in said and "flatten" not in said, said
