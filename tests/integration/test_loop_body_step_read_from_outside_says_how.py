"""A loop body's step read from outside its loop.

Was: `${steps.aggregate.output}` after a foreach whose body has the step `aggregate` was
refused with `unknown step 'aggregate' (column 3)`, as if it did not exist. Now the
message says whose body it is in and how to read it: through the loop's output.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.test_definition_wrong_shapes_and_ranges_said_in_words import (
    _no_jargon,
    _only,
)


def test_reading_a_loop_body_step_from_outside_the_loop_says_how_to_read_it(
    tmp_path: Path,
) -> None:
    """The README's sales ETL reads its foreach's inner step as
    `${steps.transform.output.outputs.aggregate}`; a newcomer wrote the inner step's own
    output, `${steps.aggregate.output}`, after the loop, and read `unknown step
    'aggregate' (column 3)`, as if it did not exist. Now it says that 'aggregate' is a
    step of the foreach 'transform', read as steps.transform.output.outputs.aggregate."""
    text = (
        "name: m\nparams: {regions: {type: list, default: [emea]}}\nsteps:\n"
        '  - {id: transform, type: foreach, over: {region: "${params.regions}"},'
        " steps: [{id: aggregate, type: lambda, function: f}]}\n"
        "  - {id: load, type: lambda, function: f, depends_on: [transform],"
        ' payload: {aggregates: "${steps.aggregate.output}"}}\n'
    )
    message = _only(tmp_path, text, "steps[1].payload.aggregates")
    assert "steps.transform.output.outputs.aggregate" in message, message


def test_reading_a_while_body_step_from_outside_the_while_says_how_to_read_it(
    tmp_path: Path,
) -> None:
    """The same mistake after a while: `${steps.train.output}` read after the while
    `until_converged` was `unknown step 'train'`. Now it says 'train' is a step of that
    while, read inside its update, and after it through steps.until_converged.output."""
    text = (
        "name: m\nsteps:\n"
        '  - {id: until_converged, type: while, state: {n: 0}, condition: "state.n < 3",'
        ' update: {n: "${state.n + 1}"}, steps: [{id: train, type: lambda, function: f}]}\n'
        "  - {id: report, type: lambda, function: f, depends_on: [until_converged],"
        ' payload: {last: "${steps.train.output}"}}\n'
    )
    message = _only(tmp_path, text, "steps[1].payload.last")
    _no_jargon(message)
    assert "while 'until_converged'" in message, message
    assert "steps.until_converged.output" in message, message


def test_a_step_id_no_body_has_is_still_unknown(tmp_path: Path) -> None:
    """A step no loop body has keeps its words: unknown, with the nearest id."""
    text = (
        "name: m\nsteps:\n  - {id: extract, type: lambda, function: f}\n"
        "  - {id: load, type: lambda, function: f, depends_on: [extract],"
        ' payload: {rows: "${steps.extrat.output}"}}\n'
    )
    message = _only(tmp_path, text, "steps[1].payload.rows")
    assert "unknown step 'extrat'" in message and "did you mean 'extract'" in message, message
