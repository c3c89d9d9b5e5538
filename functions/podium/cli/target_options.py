"""Where a command goes: the target options every command shares, the choice between the
local home and a deployed stack, and how an error of the API is reported.

The order in which the options apply is ``remote.resolve_target``'s. A command reads the
local home instead of a stack when no remote target is named: no --stack, --endpoint or
--profile, and no remote config (``bootstrap.remote_target_configured``); ``--home``
always means the local home. Imports none of the command modules.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from podium import bootstrap
from podium.cli.output import err
from podium.cli.remote import ApiClient, ApiError, RemoteError, connect, resolve_target

# No [brackets] in help texts: rich would read them as markup.
TARGET = "Target (default: the config file's 'default' profile, else the stack 'Podium')"

StackOption = Annotated[
    str | None,
    typer.Option(
        "--stack",
        help="CloudFormation stack whose ApiUrl output is the API.",
        rich_help_panel=TARGET,
    ),
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint", help="The API's URL; skips the stack lookup.", rich_help_panel=TARGET
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="A profile (TOML table) in ~/.config/podium/config.toml, or in $PODIUM_CONFIG.",
        rich_help_panel=TARGET,
    ),
]
RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="The stack's region (default: AWS_REGION, then the AWS config).",
        rich_help_panel=TARGET,
    ),
]
AwsProfileOption = Annotated[
    str | None,
    typer.Option(
        "--aws-profile",
        help="AWS profile for credentials (default: AWS_PROFILE, then the standard chain).",
        rich_help_panel=TARGET,
    ),
]


def home_directory(value: str) -> Path:
    """``--home``'s value: a directory (or its podium.db). An empty one (a variable that
    was not set, ``--home "$DIR"``) is refused: as a path it meant the current directory,
    where a new home was made unasked."""
    if not value.strip():
        raise typer.BadParameter("give the home's directory (the value was empty)")
    return Path(value)


HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        parser=home_directory,
        help="Read the local home (default when no remote target is set: PODIUM_HOME, else"
        " .podium).",
        rich_help_panel=TARGET,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]


@dataclass(frozen=True)
class TargetArgs:
    """The remote target options of one command, as given."""

    stack: str | None
    endpoint: str | None
    profile: str | None
    region: str | None
    aws_profile: str | None

    def connect(self) -> ApiClient:
        return connect(
            resolve_target(
                stack=self.stack,
                endpoint=self.endpoint,
                profile=self.profile,
                region=self.region,
                aws_profile=self.aws_profile,
            )
        )


def uses_local_home(
    home: Path | None, stack: str | None, endpoint: str | None, profile: str | None
) -> bool:
    """Local home or deployed stack (see the module doc); both named is a usage error."""
    if home is not None:
        if stack or endpoint or profile:
            err().print(Text("pass either --home or a remote target, not both", style="red"))
            raise typer.Exit(2)
        return True
    if stack or endpoint or profile:
        return False
    return not bootstrap.remote_target_configured()


@contextmanager
def reporting_remote_errors(context: str | None = None) -> Iterator[None]:
    """Turn a RemoteError into its message (with each API issue and its path) and exit code."""
    try:
        yield
    except RemoteError as exc:
        console = err()
        if isinstance(exc, ApiError):
            # The context (file, workflow, run) says what the API refused.
            prefix = f"{context}: " if context else ""
            status = f" (HTTP {exc.status})" if exc.status else ""
            count = f", {len(exc.issues)} problem(s)" if exc.issues else ""
            console.print(Text(f"{prefix}{exc.message}{status}{count}", style="bold red"))
            for issue in exc.issues:
                console.print(Text.assemble(("  ✗ ", "red"), str(issue)), highlight=False)
            if exc.hint:
                console.print(Text(f"  {exc.hint}", style="yellow"), highlight=False)
        else:
            console.print(Text(f"error: {exc}", style="red"), highlight=False)
        raise typer.Exit(exc.exit_code) from None
