"""Follow-ups of the definitions review's fixes, found by a review of them: a param
written as a list is refused (not a TypeError), a key issue inside a step is named
without the step's type, jitter on a signal trigger says it does not apply, YAML ints
that loaded before still load (`1_000`, `!!int 0b101`, `!!int -0x10`) and a float
still needs its dot. Each test failed before its fix (its docstring says what was
wrong)."""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition, parse_document


def _issues(text: str) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as info:
        load_definition(text)
    return [(i.path, i.message) for i in info.value.issues]


def test_a_param_written_as_a_list_is_refused_not_a_crash() -> None:
    """``params: {day: [string]}`` (a list where a param's map belongs) raised
    ``TypeError: unhashable type: 'list'`` out of load.py ``_shape_message``: it tests
    ``raw in {k.value for k in kind}`` on the raw input, which a list (or any
    unhashable value) cannot be looked up in. ``podium validate``/a push crash instead
    of naming the field. Right: a DefinitionError at ``params.day`` saying it must be
    a map (check ``isinstance(raw, str)`` before the set lookup)."""
    text = "name: w\nparams:\n  day: [string]\nsteps:\n- {id: a, type: noop}\n"
    issues = _issues(text)
    assert [path for path, _ in issues] == ["params.day"]
    assert "must be a map" in issues[0][1]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("name: w\nsteps:\n- {id: a, type: noop, params: {1: x}}\n", "steps[0].params.1"),
        (
            "name: w\nsteps:\n- {id: a, type: lambda, function: f, payload: {1: x}}\n",
            "steps[0].payload.1",
        ),
        (
            "name: w\nsteps:\n- {id: a, type: foreach, over: {1: [1]},"
            " steps: [{id: b, type: noop}]}\n",
            "steps[0].over.1",
        ),
        (
            "name: w\nsteps:\n- {id: a, type: foreach, over: {x: [1]},"
            " steps: [{id: b, type: noop, params: {2: y}}]}\n",
            "steps[0].steps[0].params.2",
        ),
    ],
)
def test_a_key_issue_inside_a_step_is_named_without_the_step_type(text: str, path: str) -> None:
    """A map key YAML reads as a number inside a step is reported at
    ``steps[0].noop.params.1`` (``steps[0].foreach.steps[0].noop.params.2`` in a loop):
    load.py ``_issue_from`` returns ``_key_issue`` before it drops the discriminated
    union's tag (the step's ``type``) from the location, so the path names a place that
    does not exist in the file. Right: ``steps[0].params.1``, as every other issue of a
    step is named (move the ``_KEY`` branch after the tag removal)."""
    assert [p for p, _ in _issues(text)] == [path]


def test_jitter_on_a_signal_trigger_says_jitter_does_not_apply() -> None:
    """``jitter: 5`` on a signal trigger was refused with "jitter applies to cron and
    rate triggers only"; since the range check moved to a field validator (which runs
    first and stops the model validator) it says "jitter must be between 1 minute and 1
    day": the user raises it to 5m and is then told jitter does not apply at all.
    Right: a trigger kind that takes no jitter is told so whatever the value (check the
    range only where jitter applies, or report the kind first)."""
    text = "name: w\ntriggers: [{signal: {names: [x]}, jitter: 5}]\nsteps:\n- {id: a, type: noop}\n"
    messages = " | ".join(m for _, m in _issues(text))
    assert "applies to cron and rate triggers only" in messages


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1_000", 1000), ("!!int 1_000", 1000), ("!!int 0b101", 5), ("!!int -0x10", -16)],
)
def test_yaml_integers_that_loaded_before_still_load(value: str, expected: int) -> None:
    """The YAML 1.2 change was meant to stop base 60 (``10:30``), leading-zero octal and
    dates; it also dropped digit separators and signed/binary forms: ``1_000`` became
    the string "1_000" (an int param's default, a ``timeout`` or ``jitter`` is now
    refused; a payload silently sends a string, while ``seconds: 1_000`` is still read
    as 1000 through int()), and a value the author tagged ``!!int`` explicitly is refused
    as "invalid YAML: '1_000' is not an int". Neither is documented (the docs name only
    on/no/yes, 10:30, dates and 010). Right: what PyYAML read as these ints (and what
    YAML 1.2 libraries such as ruamel keep reading) is still that int; at least an
    explicit ``!!int`` must not be refused."""
    data = parse_document(f"k: {value}\n")
    assert data["k"] == expected and type(data["k"]) is int


def test_a_float_needs_its_dot_as_before() -> None:
    """The YAML 1.2 change also read `1e3` as 1000.0 and a short commit id `1234e56` as a
    float: a string param's default `1234e56` was refused, an emit's `v: 1e3` too. As in
    YAML 1.1, a float needs its dot; `1.5e3` is a float."""
    from podium.core.dsl.load import parse_document

    assert parse_document("a: [1e3, 1234e56, 1.5e3, 1.5e+3]\n", "x") == {
        "a": ["1e3", "1234e56", 1500.0, 1500.0]
    }


def test_a_trigger_whose_every_firing_would_be_refused_is_refused_at_push() -> None:
    """A trigger setting a constant param, giving a literal of the wrong type, or leaving
    out a required param passed push, and every firing then failed (its last failure in
    `podium triggers list`, no run). Refused at push, naming the trigger's param; a
    template is checked at the firing, and a stored version keeps loading."""
    from podium.core.dsl.errors import DefinitionError
    from podium.core.dsl.load import load_definition, parse_document, validate_definition

    text = (
        "name: w\nparams:\n  n: {type: int}\n  c: {type: string, default: x, mode: constant}\n"
        "  req: {type: string}\nsteps: [{id: a, type: noop}]\ntriggers:\n"
        '  - cron: "0 6 * * *"\n    params: {n: abc, c: y}\n'
        '  - cron: "0 7 * * *"\n    params: {n: "${event.time}", req: "${event.logical_date}"}\n'
    )
    with pytest.raises(DefinitionError) as info:
        load_definition(text, "w.yaml")
    assert sorted(i.path for i in info.value.issues) == [
        "triggers[0].params.c",
        "triggers[0].params.n",
        "triggers[0].params.req",
    ]
    validate_definition(parse_document(text, "w.yaml"), stored=True)  # stored: loads
