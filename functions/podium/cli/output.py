"""What every CLI command prints with, and how it opens the local home: one place.

Consoles are made per command (not at import), so their width follows the current
terminal and environment.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text


def out() -> Console:
    return Console(soft_wrap=True)


def err() -> Console:
    return Console(stderr=True, soft_wrap=True)


def print_json(body: Any) -> None:
    sys.stdout.write(json.dumps(body, indent=2, default=str) + "\n")


@contextmanager
def local_home_services(
    home: Path | None, *, refused: tuple[type[Exception], ...] = ()
) -> Iterator[Any]:
    """The local home's services for a command. A home that does not exist yet, an
    unknown workflow, run or version (NotFound), bad input (DefinitionError: each issue on
    its line) and the ``refused`` errors are printed, exit 1."""
    from podium.cli.local_commands import Home, _missing_home
    from podium.core.dsl.errors import DefinitionError
    from podium.core.engine.errors import NotFound

    caught: tuple[type[Exception], ...] = (NotFound, *refused)
    opened = Home(home)
    if not opened.exists:
        _missing_home(opened)
        raise typer.Exit(1)
    with opened:
        try:
            yield opened.services
        except DefinitionError as exc:
            for issue in exc.issues:
                err().print(Text.assemble(("  ✗ ", "red"), str(issue)), highlight=False)
            raise typer.Exit(1) from None
        except caught as exc:
            err().print(Text(str(exc), style="bold red"), highlight=False)
            raise typer.Exit(1) from None
