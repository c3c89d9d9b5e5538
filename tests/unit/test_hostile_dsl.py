"""Hostile definitions: alias bombs, deep nesting, huge graphs, misleading messages
(issue 9). Each case once hung, ran out of memory, crashed or misled."""

from __future__ import annotations

import json
import time
import tracemalloc
from typing import Any

import pytest
import yaml

from podium.core.dsl import load as dsl_load
from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.expressions import WorkflowExpressions
from podium.core.dsl.graph_checks import MAX_DEPENDS_ON
from podium.core.dsl.load import (
    MAX_ALIAS_EXPANSION,
    MAX_DOCUMENT_DEPTH,
    MAX_STEPS,
    load_definition,
    parse_document,
    validate_definition,
)


def messages(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as exc:
        load_definition(text)
    return [str(i) for i in exc.value.issues]


def billion_laughs(levels: int = 9) -> str:
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for name in "bcdefghijklm"[: levels - 1]:
        text += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    return text + "name: x\nsteps: [{id: a, type: noop}]\n"


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    text = billion_laughs()
    assert len(text) < 500
    started = time.perf_counter()
    with pytest.raises(DefinitionError) as exc:
        parse_document(text)
    assert time.perf_counter() - started < 1.0
    assert f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} extra values" in str(exc.value)


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(DefinitionError, match="recursive alias"):
        parse_document("a: &a [1, *a]\nname: x\n")


def test_ordinary_anchors_and_merge_keys_still_work() -> None:
    text = (
        "name: x\n"
        "steps:\n"
        "  - &base {id: a, type: noop, retries: 3}\n"
        "  - {<<: *base, id: b, depends_on: [a]}\n"
    )
    defn = load_definition(text)
    assert [s.retries for s in defn.steps] == [3, 3]


def test_yaml_uses_the_c_loader_when_available() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("libyaml not installed")
    assert issubclass(dsl_load._Yaml12Loader, yaml.CSafeLoader)
    # YAML 1.2 booleans still hold with the C loader.
    assert parse_document("name: on\nx: no\ny: true\n") == {"name": "on", "x": "no", "y": True}


def test_deep_yaml_nesting_is_refused() -> None:
    deep = "[" * (MAX_DOCUMENT_DEPTH + 5) + "]" * (MAX_DOCUMENT_DEPTH + 5)
    with pytest.raises(DefinitionError, match="nested more than 64 levels"):
        parse_document(f"name: x\nx: {deep}\n")


@pytest.mark.parametrize("depth", [MAX_DOCUMENT_DEPTH + 1, 10_000])
def test_deep_json_nesting_is_a_definition_error(depth: int) -> None:
    text = '{"name": "x", "x": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(DefinitionError, match="nested more than 64 levels"):
        parse_document(text)


def test_definition_text_size_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dsl_load, "MAX_DEFINITION_CHARS", 100)
    with pytest.raises(DefinitionError, match="over the limit of 100"):
        parse_document("name: x\n" + "#" * 200)


def chain(n: int, when: str | None = None) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"id": "s0", "type": "noop"}]
    for i in range(1, n):
        dep: Any = f"s{i - 1}" if when is None else {"step": f"s{i - 1}", "when": when}
        steps.append({"id": f"s{i}", "type": "noop", "depends_on": [dep]})
    return {"name": "big", "steps": steps}


def test_step_count_is_capped_with_a_clear_message() -> None:
    data = {"name": "x", "steps": [{"id": "a", "type": "noop"}] * (MAX_STEPS + 1)}
    with pytest.raises(DefinitionError) as exc:
        validate_definition(data)
    assert str(exc.value) == (
        "steps: 100,001 steps, over the limit of 100,000 per workflow;"
        " split the work into subworkflows or a foreach"
    )


def test_a_steps_dependencies_are_capped_with_a_clear_message() -> None:
    # A join marks each arrival on its own item: past the cap DynamoDB's 400 KB item
    # limit comes near. In a loop body too (the same check), with the body's path.
    many = [{"id": f"s{i}", "type": "noop"} for i in range(MAX_DEPENDS_ON + 1)]
    join = {"id": "join", "type": "noop", "depends_on": [s["id"] for s in many]}
    with pytest.raises(DefinitionError) as exc:
        validate_definition({"name": "x", "steps": [*many, join]})
    assert str(exc.value) == (
        f"steps[{MAX_DEPENDS_ON + 1}].depends_on: 10,001 dependencies, over the limit of"
        " 10,000 per step; depend on a few steps that each depend on part of them, or make"
        " the repeated work a foreach"
    )
    join["depends_on"] = join["depends_on"][:MAX_DEPENDS_ON]
    assert validate_definition({"name": "x", "steps": [*many, join]}).steps[-1].id == "join"
    loop = {"id": "each", "type": "foreach", "over": {"i": [1]}, "steps": [*many, join]}
    join["depends_on"] = [s["id"] for s in many]
    with pytest.raises(DefinitionError) as exc:
        validate_definition({"name": "x", "steps": [loop]})
    assert f"steps[0].steps[{MAX_DEPENDS_ON + 1}].depends_on: 10,001 dependencies" in str(exc.value)


def test_param_names_are_bounded() -> None:
    data = {
        "name": "x",
        "params": {"p" * 81: {"type": "int", "default": 1}},
        "steps": [{"id": "a", "type": "noop"}],
    }
    with pytest.raises(DefinitionError, match="param names must be 1 to 80 characters"):
        validate_definition(data)


def test_a_20000_step_chain_validates_in_linear_time_and_memory() -> None:
    data = chain(20_000)
    tracemalloc.start()
    started = time.process_time()
    try:
        validate_definition(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The old ancestor sets needed ~2.4 GB for 10,000 steps (n^2/2 entries).
    assert peak < 200 * 2**20
    assert time.process_time() - started < 10


def test_expressions_reading_a_far_step_stay_linear() -> None:
    data = chain(20_000, when="steps.s0.output != null")
    started = time.process_time()
    defn = validate_definition(data)
    assert time.process_time() - started < 10
    compiled = WorkflowExpressions.of(defn)
    assert compiled.condition_steps[("s19999", "s19998")] == frozenset({"s0"})


def test_reading_a_step_that_is_not_upstream_is_still_an_error() -> None:
    data = chain(600, when="steps.s0.output != null")
    data["steps"].append({"id": "side", "type": "noop"})
    data["steps"][599]["depends_on"][0]["when"] = "steps.side.output != null"
    data["steps"][598]["depends_on"][0]["when"] = "steps.s1.output != null"
    with pytest.raises(DefinitionError) as exc:
        validate_definition(data)
    assert [i.path for i in exc.value.issues] == ["steps[599].depends_on[0].when"]
    assert "step 'side' (column 1) is not upstream" in exc.value.issues[0].message


def test_a_far_step_on_another_branch_is_not_upstream() -> None:
    data = chain(700)
    other = chain(700)["steps"]
    for step in other:
        step["id"] = "t" + step["id"][1:]
        step["depends_on"] = ["t" + d[1:] for d in step.get("depends_on", [])]
    data["steps"] += other
    data["steps"][699]["depends_on"] = [{"step": "s698", "when": "steps.t0.output != null"}]
    data["steps"][1399]["depends_on"] = [{"step": "t698", "when": "steps.t0.output != null"}]
    with pytest.raises(DefinitionError) as exc:
        validate_definition(data)
    assert [i.path for i in exc.value.issues] == ["steps[699].depends_on[0].when"]


def test_compiled_expressions_are_built_once_per_definition() -> None:
    defn = validate_definition(chain(3, when="steps.s0.output != null"))
    assert WorkflowExpressions.of(defn) is WorkflowExpressions.of(defn)


def test_run_fields_are_checked_at_push_time() -> None:
    text = (
        "name: x\nsteps:\n  - {id: a, type: noop}\n"
        "  - id: b\n    type: noop\n    depends_on:\n"
        "      - {step: a, when: \"timestamp(run.started_at) < timestamp('2030-01-01T00:00:00Z')\"}\n"
    )
    assert messages(text) == [
        "steps[1].depends_on[0].when: run has no field 'started_at' (column 11)"
        " (did you mean 'start_time'?); the fields of run are id, workflow, version,"
        " start_time, logical_date, trigger"
    ]
    load_definition(text.replace("started_at", "start_time"))


def test_run_fields_are_checked_in_param_defaults_and_payloads() -> None:
    text = (
        "name: x\nparams:\n  day: {type: string, default: '${run.logical_dat}'}\n"
        "steps:\n  - {id: a, type: lambda, function: f, payload: {w: '${run.workflw}'}}\n"
    )
    found = messages(text)
    assert any("run has no field 'logical_dat'" in m and "logical_date" in m for m in found)
    assert any("run has no field 'workflw'" in m and "'workflow'" in m for m in found)


def test_depends_on_as_a_string_says_what_to_write() -> None:
    text = "name: x\nsteps:\n  - {id: a, type: noop}\n  - {id: b, type: noop, depends_on: a}\n"
    assert messages(text) == [
        "steps[1].depends_on: depends_on must be a list of step ids, e.g. [a]"
        " (or {step: id, when: expression} entries)"
    ]


def test_json_definition_of_100_steps_round_trips() -> None:
    defn = load_definition(json.dumps(chain(100)))
    assert len(defn.steps) == 100


def test_rendered_payloads_are_capped() -> None:
    from podium.core.dsl.expressions import MAX_PAYLOAD_BYTES
    from podium.core.expr import LimitExceededError

    text = (
        "name: x\nparams:\n  blob: {type: string, default: ''}\n"
        "steps:\n  - {id: a, type: lambda, function: f,"
        " payload: {a: '${params.blob}', b: '${params.blob}', c: '${params.blob}'}}\n"
    )
    payload = WorkflowExpressions.of(load_definition(text)).payloads["a"]
    small = {"params": {"blob": "x" * 1000}, "run": {}, "steps": {}}
    assert payload.render(small)["a"] == "x" * 1000
    big = {"params": {"blob": "x" * 90_000}, "run": {}, "steps": {}}
    with pytest.raises(LimitExceededError) as exc:
        payload.render(big)
    assert f"over the limit of {MAX_PAYLOAD_BYTES:,}" in exc.value.message


def test_podium_validate_rejects_an_unknown_run_field(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from podium.cli.main import app

    path = tmp_path / "wf.yaml"
    path.write_text(
        "name: x\nsteps:\n  - {id: a, type: noop}\n"
        "  - id: b\n    type: noop\n    depends_on:\n"
        "      - {step: a, when: \"timestamp(run.started_at) < timestamp('2030-01-01T00:00:00Z')\"}\n"
    )
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "run has no field 'started_at'" in result.output
    assert "did you mean 'start_time'?" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: " + "1" * 5000, "invalid YAML: a number has more than 4,300 digits"),
        ('{"a": ' + "1" * 5000 + "}", "invalid JSON: a number has more than 4,300 digits"),
        ("a: !!float abc", "invalid YAML: could not convert string to float"),
        ("a: !!timestamp 2024-13-45", "invalid YAML: month must be in 1..12"),
        ("a: !!set {x, y}", "a: only strings, numbers, booleans, null, lists and maps"),
        ("a: {b: [1, !!binary aGVsbG8=]}", "a.b[1]: only strings, numbers, booleans"),
    ],
)
def test_scalars_yaml_or_json_cannot_hold_are_definition_errors(text: str, message: str) -> None:
    with pytest.raises(DefinitionError) as exc:
        parse_document(text)
    assert message in str(exc.value)


def test_dates_stay_strings_as_in_yaml_1_2() -> None:
    text = "name: x\nparams:\n  day: {type: string, default: 2024-05-01}\nsteps: [{id: a, type: noop}]\n"
    assert load_definition(text).params["day"].default == "2024-05-01"


def test_many_distinct_far_targets_are_answered_in_bulk() -> None:
    # Every step reads a different step 300 back: each query is "far", and each target
    # is different, so neither a per-query search nor a per-target cache would be linear.
    data = chain(5_000)
    for i in range(301, 5_000):
        data["steps"][i]["depends_on"] = [{"step": f"s{i - 1}", "when": f"steps.s{i - 300}.output"}]
    data["steps"].append({"id": "side", "type": "noop"})
    data["steps"].append(
        {"id": "z", "type": "noop", "depends_on": [{"step": "s4999", "when": "steps.side.output"}]}
    )
    from podium.core.dsl import expressions as dsl_expressions

    upstream = dsl_expressions._Upstream(validate_definition(chain(3)))
    assert upstream.NEAR < 300
    with pytest.raises(DefinitionError) as exc:
        validate_definition(data)
    assert [i.path for i in exc.value.issues] == ["steps[5001].depends_on[0].when"]
    data["steps"] = data["steps"][:-2]
    defn = validate_definition(data)
    assert WorkflowExpressions.of(defn).condition_steps[("s4999", "s4998")] == frozenset({"s4699"})


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            '{"name": "a", "steps": [{"id": "s", "type": "lambda", "function": "f",'
            ' "payload": {"x": NaN}}]}',
            "<definition>",
            "NaN is not a JSON number",
        ),
        (
            '{"name": "a", "steps": [{"id": "s", "type": "lambda", "function": "f",'
            ' "payload": {"x": -Infinity}}]}',
            "<definition>",
            "-Infinity is not a JSON number",
        ),
        (
            '{"name": "a", "steps": [{"id": "s", "type": "lambda", "function": "f",'
            ' "payload": {"x": 1e999}}]}',
            "<definition>",
            "1e999 is too big for a double",
        ),
        (
            "name: a\nsteps:\n- {id: s, type: lambda, function: f, payload: {x: .nan}}\n",
            "steps[0].payload.x",
            "not a finite number",
        ),
        (
            "name: a\nsteps:\n- {id: s, type: lambda, function: f, payload: {x: [1, -.inf]}}\n",
            "steps[0].payload.x[1]",
            "not a finite number",
        ),
    ],
)
def test_numbers_json_cannot_hold_are_refused_at_push(text: str, where: str, message: str) -> None:
    # Accepted, they reached the step's payload and the API then answered invalid JSON.
    with pytest.raises(DefinitionError) as exc:
        parse_document(text)
    (issue,) = exc.value.issues
    assert issue.path == where
    assert message in issue.message


def test_the_garbage_collector_stays_off_while_a_definition_is_read() -> None:
    """A 100,000-step YAML definition took 15.8 s to read with the collector on and 1.9 s
    with it off: each burst of allocations set off a pass over everything built so far."""
    import gc

    text = yaml.safe_dump(
        {"name": "big", "steps": [{"id": f"s{i}", "type": "noop"} for i in range(20_000)]}
    )
    as_json = json.dumps(yaml.safe_load(text))
    passes: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            passes.append(info["generation"])

    gc.callbacks.append(count)
    try:
        assert gc.isenabled()
        load_definition(text)
        load_definition(as_json)
    finally:
        gc.callbacks.remove(count)
    # One catch-up pass as each of parse_document and validate_definition hands back,
    # instead of hundreds along the way.
    assert len(passes) <= 4, len(passes)
    assert gc.isenabled()  # and back on afterwards, also after an error
    with pytest.raises(DefinitionError):
        parse_document("name: [")
    assert gc.isenabled()
