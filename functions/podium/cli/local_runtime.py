"""The local home's runtime as the commands that act on runs open it (``podium runs
stop``, ``podium steps skip``, ``podium unblock`` ...): act, then run on here what the
action let start, and the options those commands share to say so. Its own module, so
that the command modules that open it import none of each other."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from podium.cli.inputs import local_functions, local_stand_ins
from podium.cli.local_home import home_directory
from podium.cli.output import err as _err

NoWaitOption = Annotated[
    bool,
    typer.Option("--no-wait", help="Locally: act and return; do not run the run on here."),
]
FunctionsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--functions",
        help="Locally: the Python callable that plays a Lambda function, as"
        " name=module:function (over ./podium.toml).",
    ),
]


@contextmanager
def _before_the_home() -> Iterator[None]:
    """Ctrl-C while the local home is being opened (loading the runtime takes a second):
    nothing was done yet; said, exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        _err().print(
            Text("interrupted before the home was opened: nothing was done", style="yellow")
        )
        raise typer.Exit(130) from None


class LocalHomeRuntime:
    """A runtime on the local home, to act and then run on what the action let start."""

    def __init__(self, home: Path | None, functions: list[str] | None) -> None:
        with _before_the_home():
            from podium import bootstrap
            from podium.local.runtime import LocalRuntime

            self.where = home_directory(home)
            if not (self.where / bootstrap.HOME_DB).exists():
                _err().print(Text(f"no local home at {self.where}", style="bold red"))
                raise typer.Exit(1)
            sys.path.insert(0, str(Path.cwd()))
            self.rt = LocalRuntime(
                store="sqlite",
                home=self.where,
                functions=local_functions(Path.cwd(), functions),
                stand_ins=local_stand_ins(Path.cwd()),  # as podium dev: ./podium.toml's
                virtual_time=False,
            )
            self.by = bootstrap.local_user()

    def __enter__(self) -> LocalHomeRuntime:
        with _before_the_home():
            self.rt.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.rt.__exit__(*exc)
