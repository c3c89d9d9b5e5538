"""``podium signal send NAME -p k=v [--payload JSON]``: to the local home, or to a
deployed stack (--stack, --endpoint, --profile) through ``POST /signals``.

A param value that is an integer (``-p rows=42``) is sent as an int (past int64: a usage
error); anything else as a string; a JSON string (``-p id='"42"'``) forces a string.
The payload is JSON text.

A problem with what was sent is named by what the user typed (``-p day``, NAME,
``--payload``), not by the API body's field (``body.params.day``). A signal trigger that
could not start its run for the signal is printed after it (the signal is stored: the
exit code stays 0).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from podium.cli.inputs import json_value, usage_error
from podium.cli.local_home import Home
from podium.cli.target_options import (
    AwsProfileOption,
    EndpointOption,
    HomeOption,
    JsonOption,
    ProfileOption,
    RegionOption,
    StackOption,
    TargetArgs,
    reporting_remote_errors,
    uses_local_home,
)

signal_app = typer.Typer(
    help="Send signals: steps wait for them (wait_for), signal triggers start runs.",
    no_args_is_help=True,
    add_completion=False,
)
_INT = re.compile(r"^(?:0|-?[1-9][0-9]*)$")  # as it reads back: not 02134, not -0
_INT64 = (-(2**63), 2**63 - 1)


def parse_signal_params(pairs: list[str]) -> dict[str, str | int]:
    """``-p key=value`` pairs; a key given twice is a usage error (exit 2), not the last
    value silently kept."""
    out: dict[str, str | int] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"'{pair}': write -p key=value")
        if key in out:
            raise usage_error(f"-p {key}: given twice; give each param once")
        value: str | int = raw
        # A number only when it reads back the same: `zip=02134` stays the string.
        if _INT.fullmatch(raw):
            if len(raw) > 20 or not _INT64[0] <= int(raw) <= _INT64[1]:
                # The API refuses it as an int (a longer one used to go as a string).
                shown = raw if len(raw) <= 40 else raw[:37] + "..."
                raise usage_error(
                    f"-p {key}: {shown} is past the int64 range; quote it to send a string"
                    f" (-p {key}='\"{shown}\"')"
                )
            value = int(raw)
        elif len(raw) >= 2 and raw[0] == raw[-1] == '"':
            try:
                decoded = json.loads(raw)
            except ValueError:
                decoded = raw
            value = decoded if isinstance(decoded, str) else raw
        out[key] = value
    return out


def _err() -> Console:
    # Names and errors are text: no markup, and no emoji codes (a `:x:` in a signal's
    # name or params prints as written).
    return Console(stderr=True, soft_wrap=True, markup=False, emoji=False)


@signal_app.command("send")
def send(
    name: Annotated[str, typer.Argument(help="The signal's name.")],
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Indexed param key=value (an int, or a string)."),
    ] = None,
    payload: Annotated[
        str | None, typer.Option("--payload", help="Any JSON, carried with the signal.")
    ] = None,
    request_id: Annotated[
        str | None,
        typer.Option("--request-id", help="Sending again with it is the same signal."),
    ] = None,
    ttl_days: Annotated[
        int, typer.Option("--ttl-days", min=1, max=365, help="Kept this long (default 90).")
    ] = 90,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Send a signal: stored once (same request id, or same name and params), and every
    step waiting for it is woken."""
    params = parse_signal_params(param or [])
    body: dict[str, Any] = {"name": name, "params": params, "ttl_days": ttl_days}
    if payload is not None:
        try:
            body["payload"] = json_value("--payload", payload)
        except ValueError as exc:
            _err().print(Text(f"--payload is not JSON: {exc}", style="red"), highlight=False)
            raise typer.Exit(2) from None
    if request_id is not None:
        body["request_id"] = request_id
    if uses_local_home(home, stack, endpoint, profile):
        result = _send_local(home, body)
    else:
        target = TargetArgs(stack, endpoint, profile, region, aws_profile)
        with reporting_remote_errors(f"signal {name}"):
            result = _send_remote(target, body)
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
        return
    what = "sent" if result.get("created") else "already sent (the same signal)"
    Console(soft_wrap=True, emoji=False).print(
        Text.assemble(("✓", "green"), f" signal {result['name']} {what}: {result['signal_id']}"),
        highlight=False,
    )
    _print_failed(result.get("failed") or [])


def _print_failed(failed: list[dict[str, Any]]) -> None:
    """The signal triggers that could not start their run for this signal (the answer's
    ``failed``; a stack deployed before it was answered has none)."""
    for failure in failed:
        _err().print(
            Text.assemble(
                ("  ✗ ", "red"),
                f"trigger {failure.get('trigger')} of {failure.get('workflow')} did not"
                f" start its run: {failure.get('error')}",
            ),
            highlight=False,
        )
    if failed:
        _err().print(
            Text(
                "  the signal is stored; fix what the error names (podium triggers list"
                " shows a trigger's last failure), then send the signal again (the same"
                " request id) within 12 hours to start the run",
                style="yellow",
            ),
            highlight=False,
        )


_BODY_PLACES = (
    ("body.name", "NAME"),
    ("body.params", "-p"),
    ("body.payload", "--payload"),
    ("body.request_id", "--request-id"),
    ("body.ttl_days", "--ttl-days"),
)


def cli_place(path: str) -> str:
    """An API body path (``body.params.day``) as the command line names it (``-p day``):
    there is no body on the command line."""
    for field, place in _BODY_PLACES:
        if path == field:
            return place
        if path.startswith(field + "."):
            rest = path[len(field) + 1 :]
            return f"{place} {rest}" if place == "-p" else f"{place} at {rest}"
        if path.startswith(field + "["):
            return f"{place} at {path[len(field) :]}"
    return "the signal" if path == "body" else path


def _send_remote(target: TargetArgs, body: dict[str, Any]) -> dict[str, Any]:
    from podium.cli.remote import ApiError

    try:
        result: dict[str, Any] = target.connect().post_json("/signals", body)
    except ApiError as exc:  # named as typed (-p day), not as the body's field
        exc.issues = tuple(dataclasses.replace(i, path=cli_place(i.path)) for i in exc.issues)
        raise
    return result


def _send_local(home: Path | None, body: dict[str, Any]) -> dict[str, Any]:
    from podium.core.dsl.errors import DefinitionError, Issue
    from podium.core.engine.request_ids import RequestIdReused, reused_message
    from podium.service.signals import request_from_json, send_and_answer

    home_dir = Home(home)
    home_dir.exists = True  # a signal may come first: the home is made for it
    home_dir.path.mkdir(parents=True, exist_ok=True)
    with home_dir as opened:
        try:
            sent = send_and_answer(opened.services, request_from_json(body, source="cli"))
        except DefinitionError as exc:
            for issue in exc.issues:
                shown = dataclasses.replace(issue, path=cli_place(issue.path))
                _err().print(Text.assemble(("  ✗ ", "red"), str(shown)), highlight=False)
            raise typer.Exit(1) from None
        except RequestIdReused as exc:  # the same --request-id with another signal
            # Named as typed (--ttl-days), as the API's 409 is printed (_send_remote).
            key = cli_place(f"body.{exc.key}")
            fields = [cli_place(f"body.{f}") for f in exc.fields]
            named = ["-p params" if f == "-p" else f for f in fields]
            refused = [
                Issue("", reused_message(key, exc.request_id, named, noun=key)),
                *(
                    Issue(f, f"differs from the first request with {key} {exc.request_id}")
                    for f in fields
                ),
            ]
            for issue in refused:
                _err().print(Text.assemble(("  ✗ ", "red"), str(issue)), highlight=False)
            raise typer.Exit(1) from None
    return sent.as_json()
