"""The local home (the SQLite file ``podium run`` writes) opened by a command that reads it
or acts on it without running steps.

Shared by ``podium runs``, ``workflows``, ``triggers``, ``signal``, ``callback``, ``dlq``
and the actions on the local home, so it imports none of the command modules.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from podium import bootstrap
from podium.cli.output import err
from podium.cli.render import view_json


def home_directory(home: Path | None) -> Path:
    """The home's directory, the same for every command: ``--home`` (a directory, or the
    home's podium.db), else $PODIUM_HOME, else ``.podium``. Any other file is not a home:
    a clear error and exit 2 (bootstrap.local_home alone takes a file's directory, so a
    read command would read whatever home is beside the file)."""
    named = home if home is not None else bootstrap.local_home()
    if named.is_file() and named.name != bootstrap.HOME_DB:
        given = f"--home {named}" if home is not None else f"PODIUM_HOME={named}"
        err().print(
            Text(
                f"{given} is a file: give the home's directory (or its {bootstrap.HOME_DB})",
                style="bold red",
            ),
            highlight=False,
        )
        raise typer.Exit(2)
    return bootstrap.local_home(named)


def creatable_home(home: Path | None) -> Path:
    """The home a command that runs steps writes (``--home``, $PODIUM_HOME or
    ``.podium``), made if missing; a clear error and exit 2 when it cannot be."""
    where = home_directory(home)
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        err().print(Text(f"cannot create the home {where}: {exc.strerror}", style="bold red"))
        raise typer.Exit(2) from None
    return where


class Home:
    """A local home opened for reading: its store, logs and the service wiring that
    ``describe_run`` needs (no moto, no runner: nothing runs here)."""

    def __init__(self, home: Path | None) -> None:
        self.path = home_directory(home)
        self.database = self.path / bootstrap.HOME_DB
        self.exists = self.database.exists()
        self._db: Any = None

    def __enter__(self) -> Home:
        if self.exists:
            from podium.adapters.clock import SystemClock, UlidGenerator
            from podium.adapters.payloads import FilePayloads
            from podium.adapters.sqlite import Database, SqliteQueue, SqliteStateStore
            from podium.adapters.sqlite.logs import SqliteLogs
            from podium.service.context import Services
            from podium.service.runtimes.registry import RUNTIMES

            self._db = Database(self.database)
            self.clock = SystemClock()
            self.store = SqliteStateStore(self._db)
            self.logs = SqliteLogs(self._db)
            self.services = Services(
                runtimes=RUNTIMES,
                store=self.store,
                work_queue=SqliteQueue(self._db, "work", self.clock),
                event_queue=SqliteQueue(self._db, "events", self.clock),
                runner=_NoRunner(),
                clock=self.clock,
                ids=UlidGenerator(self.clock),
                payloads=FilePayloads(self.path / "payloads"),
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._db is None:
            return
        try:
            # What a command published (a run a signal trigger started and its strategy
            # discarded at once) is offered to the triggers on Podium's bus before this
            # process ends, as a runtime's pump would; the runs they start stay queued
            # on the home, unowned, for ``podium dev`` or the next ``podium run``.
            take = getattr(self.services.events, "take_unrouted", None)
            published = take() if take is not None else []
            if published:  # a read imports nothing more
                from podium.service.triggers import route_own_events

                route_own_events(self.services, published)
        except Exception as exc:  # what the command did is done: said, not raised over it
            logging.getLogger("podium.local").warning(
                "status changes not offered to bus: podium triggers: %s", exc
            )
        finally:
            self._db.close()

    def output(self, stored: Any) -> Any:
        """A step output as the step returned it (one stored by reference is read)."""
        from podium.core.engine.errors import NotFound
        from podium.service.bindings import resolve_output

        try:
            return resolve_output(self.services, stored)
        except NotFound:
            return stored  # the payload is gone: show the reference

    def run_body(self, run_id: str) -> dict[str, Any]:
        """The run's JSON view, as ``GET /runs/{id}`` answers it: a step a restart took
        over with the duration it ran for where it ran (not the 0 ms of the restart's
        write)."""
        from podium.service.runs import describe_run
        from podium.service.views import with_where_they_ran

        view = describe_run(self.services, run_id)
        body = view_json(view)
        body["steps"] = with_where_they_ran(self.services, view.steps, body["steps"])
        return body


class _NoRunner:
    def invoke(self, invocation: Any) -> Any:
        raise RuntimeError("inspection runs no step")


def print_missing_home(home: Home) -> None:
    """Say that there is no local home yet, and what makes one or reads elsewhere."""
    err().print(
        Text(
            f"no local home at {home.path} (nothing has run here yet): "
            "podium run FILE, or pass --home, --stack or --endpoint",
            style="yellow",
        ),
        highlight=False,
    )


@contextmanager
def local_home_services(
    home: Path | None, *, refused: tuple[type[Exception], ...] = ()
) -> Iterator[Any]:
    """The local home's services for a command. A home that does not exist yet, an
    unknown workflow, run or version (NotFound), bad input (DefinitionError: each issue on
    its line) and the ``refused`` errors are printed, exit 1."""
    from podium.core.dsl.errors import DefinitionError
    from podium.core.engine.errors import NotFound

    caught: tuple[type[Exception], ...] = (NotFound, *refused)
    opened = Home(home)
    if not opened.exists:
        print_missing_home(opened)
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
