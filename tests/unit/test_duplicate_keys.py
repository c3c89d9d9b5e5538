"""A key given twice in a definition (YAML or JSON) is refused, naming the place, the
lines and the fix: both parsers kept the last value and dropped the others without a
word (a step's first ``depends_on``, a whole ``steps`` list)."""

from __future__ import annotations

import json

import pytest

from podium.core.dsl import load as dsl_load
from podium.core.dsl.errors import DefinitionError, Issue
from podium.core.dsl.load import load_definition, loads_json, parse_document


def issues_of(text: str) -> list[Issue]:
    with pytest.raises(DefinitionError) as caught:
        parse_document(text)
    return list(caught.value.issues)


def test_a_steps_depends_on_given_twice_in_yaml_is_refused_with_its_lines() -> None:
    text = (
        "name: dupe\n"
        "steps:\n"
        "  - id: extract\n"
        "    type: noop\n"
        "  - id: load\n"
        "    type: noop\n"
        "    depends_on: [extract]\n"
        "    retries: 5\n"
        "    depends_on: []\n"
    )
    assert issues_of(text) == [
        Issue("steps[1].depends_on", "key 'depends_on' is given twice (lines 7 and 9); keep one")
    ]


def test_top_level_keys_given_twice_in_yaml_are_each_named() -> None:
    text = "name: a\nsteps: [{id: a, type: noop}]\nsteps: [{id: b, type: noop}]\nname: b\nname: c\n"
    assert issues_of(text) == [
        Issue("name", "key 'name' is given 3 times (lines 1, 4 and 5); keep one"),
        Issue("steps", "key 'steps' is given twice (lines 2 and 3); keep one"),
    ]


def test_a_key_given_twice_in_a_json_definition_is_refused_with_its_path() -> None:
    text = json.dumps({"name": "j", "steps": [{"id": "a", "type": "noop"}]})
    text = text[:-1] + ', "steps": [{"id": "b", "type": "noop"}]}'
    assert issues_of(text) == [Issue("steps", "key 'steps' is given twice; keep one")]
    nested = '{"name": "j", "steps": [{"id": "a", "type": "noop", "id": "b", "id": "c"}]}'
    assert issues_of(nested) == [Issue("steps[0].id", "key 'id' is given 3 times; keep one")]


def test_yaml_keys_that_construct_to_the_same_value_are_one_key() -> None:
    # A dict holds one of them: 1 and 01 are the int 1 (and so is true: 1 == True).
    (issue,) = issues_of("name: x\nmap:\n  1: a\n  01: b\n")
    assert issue.path == "map.1"
    assert issue.message == (
        "key '1' is given twice (lines 3 and 4); '1' and '01' are the same key; keep one"
    )
    (issue,) = issues_of("name: x\nmap: {~: a, null: b}\n")
    assert "(line 2)" in issue.message and "'~' and 'null' are the same key" in issue.message
    # A string "1" and an int 1 are two keys, in YAML and in Python.
    assert parse_document("name: x\nmap: {'1': a, 1: b}\n")["map"] == {"1": "a", 1: "b"}


def test_merge_keys_and_aliases_are_not_repeats() -> None:
    # A mapping's own keys override the ones merged in (<<), as YAML says; an alias
    # reused in two places is not a key given twice.
    text = (
        "name: x\n"
        "steps:\n"
        "  - &base {id: a, type: noop, retries: 3}\n"
        "  - {<<: *base, id: b, depends_on: [a]}\n"
        "  - {<<: [*base], id: c, depends_on: [a]}\n"
        "anchors: [*base, *base]\n"
    )
    data = parse_document(text)
    assert [s["id"] for s in data["steps"]] == ["a", "b", "c"]
    # A repeat inside an anchored mapping is named where the anchor is written.
    (issue,) = issues_of("name: x\nsteps:\n  - &s {id: a, type: noop, id: b}\n  - *s\n")
    assert issue == Issue("steps[0].id", "key 'id' is given twice (line 3); keep one")


def test_many_repeats_are_reported_up_to_a_limit_and_the_rest_counted() -> None:
    text = "name: x\nsteps:\n" + "".join(f"  - {{id: a{i}, id: b{i}}}\n" for i in range(30))
    issues = issues_of(text)
    assert len(issues) == dsl_load.MAX_REPEATED_KEY_ISSUES + 1
    assert issues[0] == Issue("steps[0].id", "key 'id' is given twice (line 3); keep one")
    assert issues[-1] == Issue(
        "<definition>", "and 10 more keys given more than once; keep one of each"
    )


def test_a_definition_without_repeats_loads_as_before() -> None:
    text = "name: fine\nsteps:\n  - {id: a, type: noop}\n  - {id: b, type: noop, depends_on: [a]}\n"
    assert [s.id for s in load_definition(text).steps] == ["a", "b"]
    assert [s.id for s in load_definition(json.dumps(parse_document(text))).steps] == ["a", "b"]


def test_loads_json_keeps_the_json_options() -> None:
    assert loads_json('{"a": 1.5}', parse_float=str) == {"a": "1.5"}
    with pytest.raises(dsl_load.RepeatedKeys) as caught:
        loads_json('[{"a": 1}, {"b": {"c": 1, "c": 1}}]')
    assert caught.value.issues == [("[1].b.c", "key 'c' is given twice; keep one")]
