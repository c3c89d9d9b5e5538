"""A definition indented with a tab: ``podium validate`` (and ``run``, ``push``) said
"invalid YAML at line 3, column 1: found character that cannot start any token". The
character was not named (libyaml's CSafeLoader, which core/dsl/load.py ``_SafeLoader``
prefers, leaves out the ``'\\t'`` that PyYAML's own scanner puts in its message), and a
tab is invisible in most editors, so the user could not tell what was wrong. core/dsl/
load.py ``parse_document`` says it is a tab and that YAML indents with spaces now, when
the character at the error's mark is one."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.core.dsl.errors import DefinitionError
from podium.core.dsl.load import parse_document

runner = CliRunner()


def test_validate_names_a_tab_used_for_indentation(tmp_path: Path) -> None:
    wf = tmp_path / "wf.yaml"
    wf.write_text("name: indented\nsteps:\n\t- {id: a, type: noop}\n")
    result = runner.invoke(app, ["validate", str(wf)])
    assert result.exit_code == 1, result.output
    assert "line 3, column 1" in result.output
    problem = result.output.split("column 1:", 1)[1]  # the path may hold "tab" too
    assert "tab" in problem.lower(), result.output


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: w\r\nsteps:\r\n\t- {id: a, type: noop}\r\n", "line 3, column 1"),  # CRLF
        ("name: w\nsteps:\n  - {id: a, type: noop}\n\t\n", "line 4, column 1"),
    ],
)
def test_the_tab_is_found_where_the_error_points(text: str, where: str) -> None:
    with pytest.raises(DefinitionError) as raised:
        parse_document(text, "wf.yaml")
    message = raised.value.issues[0].message
    assert where in message and "tab" in message, message


def test_an_error_at_another_character_does_not_blame_a_tab() -> None:
    with pytest.raises(DefinitionError) as raised:
        parse_document("name: w\nsteps: @x\n\t\n", "wf.yaml")
    message = raised.value.issues[0].message
    assert "tab" not in message, message
