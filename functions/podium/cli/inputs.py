"""What commands read besides their target: ``--param`` and ``--tag`` values, and the local
function mapping and stand-ins of podium.toml (with ``--functions``).

A bad value is a usage error (exit 2). Shared by ``podium run`` (``cli/main.py``) and the
commands that start or act on runs, so it imports none of the command modules.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.text import Text

from podium.cli.output import err
from podium.cli.remote import quote
from podium.core.dsl.models import ParamSpec
from podium.core.dsl.params import parse_cli_value
from podium.core.tags import parse_tag_pairs

if TYPE_CHECKING:
    from podium.cli.remote import ApiClient

TypedParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param", "-p", help="Run param as key=value (repeatable), typed like podium run."
    ),
]
TagOption = Annotated[
    list[str] | None,
    typer.Option("--tag", help="Tag the run: key=value (repeatable; over the workflow's tags)."),
]


def parse_params(defn_params: dict[str, Any], pairs: list[str]) -> dict[str, Any]:
    """``--param key=value`` pairs, each typed by its param spec (untyped: a string)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            err().print(f"[red]--param '{pair}': use key=value[/red]")
            raise typer.Exit(2)
        spec = defn_params.get(key)
        out[key] = parse_cli_value(spec, raw) if spec is not None else raw
    return out


def typed_params(client: ApiClient, workflow: str, version: int | None, pairs: list[str]) -> Any:
    """Type ``key=value`` pairs by the pushed definition's param specs, like ``podium run``."""
    for pair in pairs:  # a syntax error is a usage error: report it before any request
        key, sep, _ = pair.partition("=")
        if not sep or not key:
            err().print(Text(f"--param '{pair}': use key=value", style="red"))
            raise typer.Exit(2)
    wf = client.get(f"/workflows/{quote(workflow)}", {"version": version})
    specs: dict[str, Any] = {}
    for name, raw in ((wf.get("definition") or {}).get("params") or {}).items():
        # A spec this CLI does not know (a newer server): send that value as typed.
        with suppress(ValidationError):
            specs[name] = ParamSpec.model_validate(raw)
    return parse_params(specs, pairs)


def parse_tags(pairs: list[str] | None) -> dict[str, str]:
    """``--tag key=value`` pairs; a bad one is a usage error (exit 2)."""
    try:
        return parse_tag_pairs(pairs or [])
    except ValueError as exc:
        err().print(Text(str(exc), style="red"), highlight=False)
        raise typer.Exit(2) from None


def local_functions(directory: Path, pairs: list[str] | None) -> dict[str, str]:
    """The local function mapping: ``directory``'s podium.toml, then ``--functions``.
    A bad entry is a usage error (exit 2)."""
    from podium.local.functions import CONFIG_FILE, parse_pairs, read_config

    try:
        mapping = read_config(directory / CONFIG_FILE)
        mapping.update(parse_pairs(pairs or []))
    except ValueError as exc:
        err().print(Text(str(exc), style="red"), highlight=False)
        raise typer.Exit(2) from None
    return mapping


def local_stand_ins(directory: Path) -> Any:
    """podium.toml's stand-ins of external step types (local/stand_ins.py); a bad entry
    is a usage error (exit 2)."""
    from podium.local.stand_ins import stand_ins_beside

    try:
        return stand_ins_beside(directory)
    except ValueError as exc:
        err().print(Text(str(exc), style="red"), highlight=False)
        raise typer.Exit(2) from None
