"""``podium dev``: serve the API, the web console and the workers on localhost."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from podium.cli.inputs import local_functions, local_stand_ins
from podium.cli.local_home import creatable_home
from podium.cli.target_options import home_directory

errors = Console(stderr=True, soft_wrap=True, markup=False, emoji=False)  # a home path is text


def dev_command(
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1.")
    ] = 8321,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            parser=home_directory,
            help="The local home (default: $PODIUM_HOME or .podium/).",
        ),
    ] = None,
    functions: Annotated[
        list[str] | None,
        typer.Option(
            "--functions",
            help="The Python callable that plays a Lambda function locally, as"
            " name=module:function (repeatable; wins over ./podium.toml).",
        ),
    ] = None,
    print_events: Annotated[
        bool,
        typer.Option("--events", help="Print run and step status events as JSON lines."),
    ] = False,
) -> None:
    """Serve the HTTP API, the web console and the workers on localhost.

    Cron and rate triggers of the home's workflows fire from now on; POST /signals (or
    podium signal send --endpoint URL) sends signals.

    Lambda steps run the Python callables that podium.toml in the working directory (and
    --functions) map their Lambda names to; module:function runs as it is."""
    from podium.local.dev_server import DevServer, open_runtime

    home = creatable_home(home)  # --home, else $PODIUM_HOME, else .podium
    mapping = local_functions(Path.cwd(), functions)  # ./podium.toml, then --functions
    # Local functions (module:function) are imported from the working directory.
    sys.path.insert(0, os.getcwd())
    runtime = open_runtime(home)
    runtime.functions.update(mapping)  # the runtime's runner reads this mapping
    runtime.stand_ins.merge(local_stand_ins(Path.cwd()))  # ./podium.toml's stand-ins
    runtime.start()
    ticker = None
    try:
        try:
            server = DevServer(runtime, port=port)
        except OSError as exc:
            errors.print(Text(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}", style="red"))
            raise typer.Exit(2) from None
        if print_events:
            from podium.local.event_printer import print_events_of

            print_events_of(runtime.services, sys.stderr)
        from podium.local.schedule_ticker import ScheduleTicker

        ticker = ScheduleTicker(runtime, on_sent=server.wake)
        scheduled = ticker.prime()
        ticker.start()
        where = getattr(runtime, "home", None) or f"{runtime.store_kind} (not kept on exit)"
        errors.print(Text.assemble(("podium dev", "bold"), " on ", (server.url, "cyan")))
        errors.print(f"  console   {server.url}/")
        errors.print(f"  API       {server.url}  (podium push/start --endpoint {server.url})")
        errors.print(f"  state     {where}")
        errors.print(f"  triggers  {scheduled} cron/rate schedule(s) fire from now on")
        errors.print("  Ctrl-C to stop")
        # Ctrl-C and SIGTERM stop it cleanly whenever they come: a KeyboardInterrupt
        # raised between the serving thread's start and the wait loop would escape.
        for stop in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop, lambda *_: server.request_stop())
        server.serve_forever()
    finally:
        if ticker is not None:
            ticker.stop()
        runtime.stop()
