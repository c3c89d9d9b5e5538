"""Every validation message names the place and the fix."""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition, validate_definition
from podium.core.dsl.models import STEP_TYPES
from podium.core.dsl.params import parse_cli_value, resolve_params
from podium.core.dsl.schema import workflow_json_schema


def issues(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as exc:
        load_definition(text)
    return [str(i) for i in exc.value.issues]


def test_valid_yaml_and_json() -> None:
    defn = load_definition("name: ok\nsteps:\n  - {id: a, type: noop}\n")
    assert defn.steps[0].id == "a"
    defn = load_definition('{"name": "ok", "steps": [{"id": "a", "type": "sleep", "seconds": 3}]}')
    assert defn.steps[0].type == "sleep"


def test_unknown_dependency_suggests_the_closest_step() -> None:
    text = """
name: etl
steps:
  - {id: extract, type: noop}
  - {id: t, type: noop}
  - {id: x, type: noop}
  - {id: load, type: noop, depends_on: [extrct]}
"""
    assert issues(text) == [
        "steps[3].depends_on[0]: unknown step 'extrct' (did you mean 'extract'?)"
    ]


def test_duplicate_ids() -> None:
    text = "name: d\nsteps:\n  - {id: a, type: noop}\n  - {id: a, type: noop}\n"
    assert issues(text) == [
        "steps[1].id: duplicate step id 'a' (first used by steps[0]); give each step a unique id"
    ]


def test_cycle_is_printed_in_order() -> None:
    text = """
name: c
steps:
  - {id: a, type: noop, depends_on: [c]}
  - {id: b, type: noop, depends_on: [a]}
  - {id: c, type: noop, depends_on: [b]}
"""
    (msg,) = issues(text)
    assert "dependency cycle: a -> b -> c -> a" in msg
    assert msg.startswith("steps[0].depends_on")


def test_cycle_is_reported_beside_an_unknown_dependency() -> None:
    # One validate lists both: the cycle used to show only once the name was fixed.
    text = """
name: c
steps:
  - {id: a, type: noop, depends_on: [b, nope]}
  - {id: b, type: noop, depends_on: [a, b]}
"""
    found = issues(text)
    assert any("unknown step 'nope'" in m for m in found), found
    assert any("cannot depend on itself" in m for m in found), found
    assert any(
        "dependency cycle: a -> b -> a" in m or "dependency cycle: b -> a -> b" in m for m in found
    ), found


def test_self_dependency_and_repeated_dependency() -> None:
    text = """
name: s
steps:
  - {id: a, type: noop, depends_on: [a]}
  - {id: b, type: noop, depends_on: [a, a]}
"""
    assert issues(text) == [
        "steps[0].depends_on[0]: step 'a' cannot depend on itself",
        "steps[1].depends_on[1]: 'a' is listed twice; list each dependency once",
    ]


def test_unknown_field_and_unknown_type_are_explained() -> None:
    text = """
name: u
steps:
  - {id: a, type: lamda}
  - {id: b, type: noop, dependson: [a]}
  - {id: c, type: sleep}
"""
    found = issues(text)
    assert (
        "steps[0].type: unknown step type 'lamda' (did you mean 'lambda'?); "
        f"use one of: {', '.join(STEP_TYPES)}"
    ) in found
    assert STEP_TYPES[:4] == ("noop", "lambda", "sleep", "fail")
    assert any(
        m.startswith("steps[1].dependson: unknown field 'dependson' (did you mean 'depends_on'?)")
        for m in found
    )
    assert "steps[2].seconds: required field is missing" in found


def test_shape_and_graph_errors_are_listed_together() -> None:
    text = """
name: both
steps:
  - {id: a, type: sleep}
  - {id: b, type: noop, depends_on: [z]}
"""
    found = issues(text)
    assert "steps[0].seconds: required field is missing" in found
    assert "steps[1].depends_on[0]: unknown step 'z'" in found


def test_bad_ids_names_and_empty_steps() -> None:
    assert any(
        "not a valid id" in m for m in issues("name: x\nsteps:\n  - {id: my-step, type: noop}")
    )
    assert any(
        m.startswith("name:") for m in issues("name: 9lives\nsteps:\n  - {id: a, type: noop}")
    )
    assert issues("name: x\nsteps: []") == ["steps: a workflow needs at least one step"]


def test_bad_param_type_and_default() -> None:
    text = """
name: p
params:
  n: {type: int, default: many}
  t: {type: tuple}
steps:
  - {id: a, type: noop}
"""
    found = issues(text)
    assert any(m.startswith("params.t.type: 'tuple' is not allowed") for m in found)


def test_param_default_type_checked() -> None:
    text = "name: p\nparams:\n  n: {type: int, default: many}\nsteps:\n  - {id: a, type: noop}\n"
    assert issues(text) == [
        "params.n.default: expected int (an integer such as 42), got string 'many'"
    ]


def test_invalid_yaml_reports_line() -> None:
    (msg,) = issues("name: x\nsteps:\n  - {id: a, type: noop\n")
    assert "invalid YAML at line" in msg
    assert issues("[1, 2]") == [
        "<definition>: a workflow definition must be a mapping with 'name' and 'steps'"
    ]


def test_run_time_overrides_are_type_checked() -> None:
    defn = load_definition(
        """
name: p
params:
  date: {type: string}
  n: {type: int, default: 3}
  ratio: {type: double, default: 0.5}
  on: {type: bool, default: false}
  regions: {type: list, default: [a]}
steps:
  - {id: a, type: noop}
"""
    )
    assert resolve_params(defn, {"date": "2026-01-01", "ratio": 1}) == {
        "date": "2026-01-01",
        "n": 3,
        "ratio": 1.0,
        "on": False,
        "regions": ["a"],
    }
    with pytest.raises(DefinitionError) as exc:
        resolve_params(defn, {"n": "3", "dat": "x", "on": 1})
    found = [str(i) for i in exc.value.issues]
    assert (
        "params.dat: unknown param (did you mean 'date'?); the workflow declares: date, n, on, ratio, regions"
        in found
    )
    assert "params.n: expected int (an integer such as 42), got string '3'" in found
    assert "params.on: expected bool (true or false), got int 1" in found
    assert "params.date: required param has no value; pass -p date=..." in found


def test_cli_values_are_parsed_by_type() -> None:
    defn = load_definition(
        "name: p\nparams:\n  n: {type: int}\n  b: {type: bool}\n  l: {type: list}\n"
        "  s: {type: string}\nsteps:\n  - {id: a, type: noop}\n"
    )
    p = defn.params
    assert parse_cli_value(p["n"], "7") == 7
    assert parse_cli_value(p["b"], "true") is True
    assert parse_cli_value(p["l"], '["x"]') == ["x"]
    assert parse_cli_value(p["s"], "7") == "7"
    assert parse_cli_value(p["n"], "seven") == "seven"  # reported by the type check
    # int() also reads these; a param is written in ASCII digits
    for odd in ("1_000", "\u0663", "+\u0665"):
        assert parse_cli_value(p["n"], odd) == odd
    assert parse_cli_value(p["n"], "-12") == -12


def test_json_schema_describes_step_types() -> None:
    schema = workflow_json_schema()
    text = str(schema)
    for kind in ("noop", "lambda", "sleep", "fail"):
        assert kind in text
    assert schema["title"] == "Podium workflow definition"


def test_recover_needs_a_handler_join() -> None:
    text = "name: r\nsteps:\n  - {id: a, type: noop}\n  - {id: h, type: noop, depends_on: [a], recover: true}\n"
    assert issues(text) == [
        "steps[1].recover: recover applies to error handlers only: set join to one_failed"
        " (or all_done), or remove recover"
    ]


def test_a_union_field_reports_the_member_the_value_has_the_shape_of() -> None:
    """``capacity_provider`` is a name or a list: a bad weight in the list was reported
    as two issues at paths the user never wrote (``capacity_provider.constrained-str``:
    not a string; ``capacity_provider.list[CapacityProviderItem][0].weight``)."""
    step = {"id": "a", "type": "ecs_task", "cluster": "c", "task_definition": "t"}
    bad = [{"provider": "FARGATE_SPOT", "weight": -1}]
    with pytest.raises(DefinitionError) as caught:
        validate_definition({"name": "w", "steps": [{**step, "capacity_provider": bad}]})
    assert [i.path for i in caught.value.issues] == ["steps[0].capacity_provider[0].weight"]
