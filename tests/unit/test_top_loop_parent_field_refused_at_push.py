"""docs/workflow-language.md: inside an iteration expressions read `iteration.parent`
"the enclosing loop's iteration, when nested", and reference checks refuse "a field of
`iteration` that the loop's iterations do not have (... `parent` in a nested loop ...)".
In a top loop (no loop around it: a subworkflow's run is no iteration either) the
fields of `iteration.parent` were left unknown, so `${iteration.parent.day}` passed
validate and push and failed only when the step ran. It is refused at push now, saying
where and why; `has(iteration.parent)` stays a correct test there (it is false)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition, validate_definition

HINT = (
    "(iteration.parent exists only in a nested loop, a foreach or while inside another"
    " loop's steps); test for it with has("
)


def _foreach(payload: str, *, nested: bool = False) -> dict[str, Any]:
    leaf = {"id": "a", "type": "lambda", "function": "f", "payload": {"v": payload}}
    body: dict[str, Any] = leaf
    if nested:
        body = {"id": "inner", "type": "foreach", "over": {"hour": [1]}, "steps": [leaf]}
    grid = {"id": "grid", "type": "foreach", "over": {"day": [1, 2]}, "steps": [body]}
    return {"name": "w", "steps": [grid]}


def _issues(definition: dict[str, Any]) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_definition(json.dumps(definition), "w.json")
    return [str(i) for i in caught.value.issues]


def _accepted(definition: dict[str, Any]) -> None:
    try:
        load_definition(json.dumps(definition), "w.json")
    except DefinitionError as exc:
        pytest.fail("refused: " + "; ".join(str(i) for i in exc.issues))


def test_a_field_of_the_parent_in_a_top_foreach_is_refused_naming_the_place() -> None:
    assert _issues(_foreach("${iteration.parent.day}")) == [
        "steps[0].steps[0].payload.v: iteration.parent.day (column 3) does not exist: the"
        " loop 'grid' is not inside another loop, so its iterations have no parent "
        + HINT
        + "iteration.parent)"
    ]


def test_the_parent_test_itself_stays_valid_in_a_top_loop() -> None:
    _accepted(_foreach("${has(iteration.parent) ? 1 : 0}"))
    _accepted(_foreach("${iteration.day}"))


def test_a_nested_loop_reads_its_parent_but_not_the_top_loops_parent() -> None:
    _accepted(_foreach("${iteration.parent.day + iteration.hour}", nested=True))
    assert _issues(_foreach("${iteration.parent.parent.day}", nested=True)) == [
        "steps[0].steps[0].steps[0].payload.v: iteration.parent.parent.day (column 3) does"
        " not exist: iteration.parent is an iteration of 'grid', which is not inside another"
        " loop, so it has no parent " + HINT + "iteration.parent.parent)"
    ]


def test_a_top_whiles_condition_is_checked_the_same_way() -> None:
    loop = {
        "id": "poll",
        "type": "while",
        "state": {"n": 0},
        "condition": "iteration.parent.n < 3",
        "update": {"n": "${state.n + 1}"},
        "steps": [{"id": "a", "type": "noop"}],
    }
    (issue,) = _issues({"name": "w", "steps": [loop]})
    assert issue.startswith(
        "steps[0].condition: iteration.parent.n (column 1) does not exist: the loop 'poll'"
    ), issue
    _accepted({"name": "w", "steps": [{**loop, "condition": "!has(iteration.parent)"}]})


def test_a_stored_version_reading_it_still_loads() -> None:
    """A push rule: a version pushed before it keeps loading (core.dsl.stored)."""
    defn = validate_definition(_foreach("${iteration.parent.day}"), stored=True)
    assert defn.steps[0].id == "grid"
