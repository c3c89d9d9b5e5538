"""`podium expr`: evaluate an expression, or run CEL conformance case files.

    podium expr 'params.x + 1' --bind params='{"x": 2}'
    podium expr 'size(rows) > 0' -b rows='[1, 2]' -b params.region=eu-west-1
    podium expr --cases tests/conformance/cel/*.json [--json]

Registered by the main app as `app.command("expr")(expr_command)`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from podium.cli.inputs import json_value, usage_error
from podium.core.expr import ExpressionError, compile_expression, compile_template
from podium.core.expr.conformance import report, run_cases, summarize
from podium.core.expr.json_values import to_json_value
from podium.core.text_checks import LONE_SURROGATE_FIX, find_lone_surrogate, shown_text
from podium.local.text_files import UnreadableFile, read_text


def _parse_bind(spec: str) -> tuple[list[str], Any]:
    """`NAME=JSON`; a value that is not valid JSON is taken as a plain string. JSON nested
    too deep is refused (exit 2), not taken as a string; so is text that is not UTF-8
    (an argument's bad byte, held as a lone surrogate: no output could carry it back),
    as its JSON form is."""
    name, sep, raw = spec.partition("=")
    if not sep or not name.strip():
        raise typer.BadParameter(f"expected NAME=JSON, got {spec!r}", param_hint="--bind")
    if find_lone_surrogate(spec) is not None:
        raise usage_error(f"--bind {shown_text(name.strip())}: {LONE_SURROGATE_FIX}")
    try:
        value: Any = json_value(f"--bind {name.strip()}", raw)
    except ValueError:
        value = raw
    return [part for part in name.strip().split(".") if part], value


def _bindings(specs: list[str]) -> dict[str, Any]:
    """Nest dotted names, so `-b params.x=1 -b params.y=2` builds one `params` map."""
    out: dict[str, Any] = {}
    for spec in specs:
        path, value = _parse_bind(spec)
        node = out
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[path[-1]] = value
    return out


def _case_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return files


def _run_case_files(paths: list[str], as_json: bool, out: Console, err: Console) -> int:
    files = _case_files(paths)
    if not files:
        err.print(Text("no case files given", style="red"))
        return 2
    results = []
    for path in files:
        try:
            cases = json.loads(read_text(path))
        except (OSError, UnreadableFile, json.JSONDecodeError) as exc:
            err.print(Text(f"cannot read {path}: {exc}", style="red"))
            return 2
        except RecursionError:  # Python's parser gives up about 1,000 levels down
            err.print(Text(f"{path}: JSON nested too deep to read; flatten it", style="red"))
            return 2
        if not isinstance(cases, list):
            err.print(Text(f"{path}: expected a JSON list of cases", style="red"))
            return 2
        results.extend(run_cases(cases, path.name))
    summary = summarize(results)
    data = report(summary)
    if as_json:
        out.print_json(json.dumps(data))
        return 0 if data["failed"] == 0 else 1
    table = Table(title="CEL conformance")
    table.add_column("file")
    table.add_column("passed", justify="right", style="green")
    table.add_column("failed", justify="right", style="red")
    table.add_column("rate", justify="right")
    for name, s in summary.items():
        total = s.passed + s.failed
        table.add_row(name, str(s.passed), str(s.failed), f"{100 * s.passed / total:.1f}%")
    total = data["passed"] + data["failed"]
    rate = 100 * data["passed"] / total if total else 0.0
    table.add_section()
    table.add_row("total", str(data["passed"]), str(data["failed"]), f"{rate:.2f}%", style="bold")
    out.print(table)
    for s in summary.values():
        for r in s.failures:
            out.print(Text.assemble(("✗", "red"), f" {r.file} {r.section}/{r.name}: {r.detail}"))
    return 0 if data["failed"] == 0 else 1


def expr_command(
    args: Annotated[
        list[str] | None,
        typer.Argument(help="The expression; with --cases, the case files (or folders)."),
    ] = None,
    bind: Annotated[
        list[str] | None,
        typer.Option(
            "--bind",
            "-b",
            help="Variable as NAME=JSON (repeatable; dotted names nest, non-JSON is a string).",
        ),
    ] = None,
    cases: Annotated[
        bool, typer.Option("--cases", help="Run CEL conformance case files instead.")
    ] = False,
    template: Annotated[
        bool, typer.Option("--template", "-t", help="Render a `${...}` template instead.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Evaluate an expression and print the result as JSON, or run conformance cases."""
    # No markup and no emoji codes: file names, expressions and case details are text
    # ("[1, 2]" is a list, "a:x:b" is not "a❌b").
    out = Console(markup=False, emoji=False)
    err = Console(stderr=True, markup=False, emoji=False)
    items = args or []
    if cases:
        raise typer.Exit(_run_case_files(items, as_json, out, err))
    if len(items) != 1:
        err.print(
            Text("give exactly one expression (quote it), or use --cases FILE...", style="red")
        )
        raise typer.Exit(2)
    source = items[0]
    bindings = _bindings(bind or [])
    try:
        if template:
            result = compile_template(source).render(bindings)
        else:
            result = compile_expression(source).evaluate(bindings)
        # The form a step gets (core.expr.json_values: RFC 3339, "5400s", base64, a map
        # key as its text, so {1: 'a', '1': 'b'} is refused: JSON with one key twice
        # loses a value). Read by a program (--json): JSON, or an error (NaN printed
        # bare was neither); for a person, NaN and Infinity print as such (a step
        # refuses them).
        result = to_json_value(result, "", finite=as_json)
    except ExpressionError as exc:
        if as_json:
            payload = {
                "error": exc.message,
                "kind": exc.kind,
                "position": exc.position,
                "line": exc.line,
                "column": exc.column,
            }
            _write(json.dumps(payload))
        else:
            err.print(f"error: {exc}", highlight=False)
        raise typer.Exit(1) from None
    _write(json.dumps(result, ensure_ascii=False))


def _write(text: str) -> None:
    """JSON straight to stdout, as cli/output.print_json does: a console would wrap it
    at the terminal's width (a newline inside a string is not JSON) or rewrite it."""
    sys.stdout.write(text + "\n")
