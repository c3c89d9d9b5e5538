"""docs/workflow-language.md, Params: "A whole number written as a string (`retries:
"3"`) is read as the number, as CloudFormation reads its templates; a string that is not
one (`"3.5"`, `"three"`) is refused". The plain int fields kept that rule (pydantic's int
reads the text); the two fields whose type is a union with words (a subworkflow's
`version`, a foreach's `tolerated_failures`) check their values themselves, and refused
it."""

from __future__ import annotations

import pytest

from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import load_definition
from podium.core.dsl.models import ForeachStep, SubworkflowStep


def _load(text: str):  # type: ignore[no-untyped-def]
    try:
        return load_definition(text, "workflow.yaml")
    except DefinitionError as exc:
        pytest.fail("refused: " + "; ".join(str(i) for i in exc.issues))


def _issues(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        load_definition(text, "workflow.yaml")
    return [str(i) for i in caught.value.issues]


def _caller(version: str) -> str:
    return (
        "name: caller\nsteps:\n"
        f"  - {{id: call, type: subworkflow, workflow: daily_reports, version: {version}}}\n"
    )


def _sweep(tolerated: str) -> str:
    return (
        "name: sweep\nsteps:\n"
        "  - id: grid\n    type: foreach\n    over: {x: [1, 2, 3, 4]}\n"
        f"    concurrency: '3'\n    on_failure: continue\n    tolerated_failures: {tolerated}\n"
        "    steps: [{id: a, type: noop}]\n"
    )


def test_a_subworkflow_version_written_as_a_string_is_read_as_the_number() -> None:
    """`version: "3"` was refused with "'3' is not a version: use active, latest or a
    version number from 1 to 1,000,000,000", which named the very value the user wrote
    as allowed, while every other whole-number field (`retries: "3"`) read it as 3."""
    step = _load(_caller("'3'")).steps[0]
    assert isinstance(step, SubworkflowStep)
    assert step.version == 3
    assert _load(_caller("latest")).steps[0].version == "latest"  # the words stay words


def test_a_quoted_version_out_of_range_or_not_whole_is_still_refused_as_written() -> None:
    """The number a string holds is checked as a number is, and the message shows the
    value as the user wrote it (quoted)."""
    for written, shown in (("'0'", "'0'"), ("'3.5'", "'3.5'"), ("'three'", "'three'")):
        assert _issues(_caller(written)) == [
            f"steps[0].version: {shown} is not a version: use active, latest or a version"
            " number from 1 to 1,000,000,000"
        ]


def test_tolerated_failures_written_as_a_string_is_read_as_the_count() -> None:
    """`tolerated_failures: "3"` was refused with "'3' is not a count or a percentage:
    write a whole number of failures (3) ...": the fix it gave was what was written. It
    reads as the count 3 now, as `concurrency: "3"` beside it does."""
    step = _load(_sweep("'3'")).steps[0]
    assert isinstance(step, ForeachStep)
    assert step.concurrency == 3  # the rule, kept by the plain int field
    assert step.tolerated_failures == 3
    assert _load(_sweep("'10%'")).steps[0].tolerated_failures == "10%"  # still a percentage


def test_a_quoted_count_that_is_not_one_is_still_refused() -> None:
    for written in ("'-3'", "'3.5'", "'three'"):
        (issue,) = _issues(_sweep(written))
        assert issue.startswith(f"steps[0].tolerated_failures: {written} is not a count"), issue
