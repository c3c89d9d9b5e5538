"""``podium expr x -b x=$'\\xff'`` (an argument that is not UTF-8: Python holds the byte as
the lone surrogate U+DCFF) ended in a UnicodeEncodeError traceback (exit 1) where stdout
is strict UTF-8, and in the C locale wrote the invalid byte back as "JSON" with exit 0;
the same text as JSON (``-b x=$'"\\xff"'``) was refused with exit 2 and the
lone-surrogate message. A bind that is not JSON was taken as a string unchecked. Found by
review R33e."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from podium.cli.expr_command import expr_command

runner = CliRunner()
_expr_app = typer.Typer()
_expr_app.command("expr")(expr_command)


@_expr_app.command("noop")
def _noop() -> None:
    """A second command keeps `expr` a subcommand, as in the real app."""


def test_expr_bind_of_bytes_that_are_not_utf8_is_refused_as_its_json_form_is() -> None:
    quoted = runner.invoke(_expr_app, ["expr", "x", "-b", 'x="\udcff"'])
    assert quoted.exit_code == 2 and "lone surrogate" in quoted.output
    for bind, named in (("x=\udcff", "--bind x:"), ("p.k\udcff=1", "--bind p.k\\udcff:")):
        bare = runner.invoke(_expr_app, ["expr", "x", "-b", bind])
        assert bare.exit_code == 2, (bare.exit_code, bare.output, bare.exception)
        assert f"{named} contains a lone surrogate" in bare.output


def test_a_bind_of_utf8_text_that_is_not_json_is_still_a_string() -> None:
    """Guard: non-JSON text (any script) is taken as a string."""
    result = runner.invoke(_expr_app, ["expr", "x + '!'", "-b", "x=café 😀"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == '"café 😀!"'
