"""``podium callback TOKEN --success JSON | --fail MESSAGE | --heartbeat``: the result
of a step waiting for a callback (wait_for_callback, approval, an async lambda), sent to
the local home or to a deployed stack (``POST /callbacks/{token}``), chosen as for
``podium runs``. Exit codes: 0 accepted, 1 refused (the attempt is not waiting, the
caller is not an approver, the result came after the step's deadline: it times out), 2
a usage problem. A refusal is printed alike from a local home and from the API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from podium.cli.inputs import json_value
from podium.cli.local_home import Home
from podium.cli.output import print_json as _print_json
from podium.cli.remote import quote
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


def _err(message: str, code: int) -> typer.Exit:
    Console(stderr=True, soft_wrap=True, emoji=False).print(
        Text(message, style="red"), highlight=False
    )
    return typer.Exit(code)


def _body(
    success: str | None, fail: str | None, heartbeat: bool, by: str | None, comment: str | None
) -> dict[str, Any]:
    given = [name for name, v in (("--success", success), ("--fail", fail)) if v is not None]
    if heartbeat:
        given.append("--heartbeat")
    if len(given) != 1:
        raise _err("give exactly one of --success JSON, --fail MESSAGE and --heartbeat", 2)
    body: dict[str, Any]
    if success is not None:
        try:
            body = {"success": json_value("--success", success)}
        except ValueError as exc:
            example = "--success '{\"rows\": 3}'"
            raise _err(f"--success: not JSON ({exc}); e.g. {example}", 2) from None
    elif fail is not None:
        body = {"fail": fail}
    else:
        body = {"heartbeat": True}
    if by is not None:
        body["by"] = by
    if comment is not None:
        body["comment"] = comment
    _check(body)
    return body


def _check(body: dict[str, Any]) -> None:
    """The API's own check of the body, before the home or the stack is reached: what it
    refuses (a --fail text too long, a --success too large) is a usage error, exit 2,
    named as typed, the same locally, on a stack and without a home. (A stack's 400
    exited 1, and no home at all was said before the text.)"""
    from podium.service.api_requests import RequestError
    from podium.service.callbacks import parse_callback

    try:
        parse_callback(body)
    except RequestError as exc:
        field = exc.path.removeprefix("body.")
        place = f"--{field}" if field in body else "callback"
        raise _err(f"{place}: {exc.message}", 2) from None


def callback_command(
    token: Annotated[str, typer.Argument(help="The token the waiting step published.")],
    success: Annotated[
        str | None, typer.Option("--success", help="Succeed the step with this JSON output.")
    ] = None,
    fail: Annotated[
        str | None, typer.Option("--fail", help="Fail the step with this message.")
    ] = None,
    heartbeat: Annotated[
        bool, typer.Option("--heartbeat", help="Say the work goes on (heartbeat_seconds).")
    ] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="Who decides (an approval's approver).")
    ] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="A note with it.")] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    endpoint: EndpointOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Complete (or heartbeat) a step that waits for a callback."""
    body = _body(success, fail, heartbeat, by, comment)
    if uses_local_home(home, stack, endpoint, profile):
        result = _local(home, token, body)
    else:
        target = TargetArgs(stack, endpoint, profile, region, aws_profile)
        with reporting_remote_errors("callback"):
            result = target.connect().post_json(f"/callbacks/{quote(token)}", body)
    if as_json:
        _print_json(result)
        return
    Console(soft_wrap=True, markup=False, emoji=False).print(
        f"{result.get('accepted')} sent to {result.get('run_id')} / {result.get('step')}"
        f" (attempt {result.get('attempt')})",
        highlight=False,
    )


def _local(home_dir: Path | None, token: str, body: dict[str, Any]) -> dict[str, Any]:
    from podium.core.engine.errors import NotFound
    from podium.service.api_requests import RequestError
    from podium.service.callbacks import CallbackRefused, callback, parse_callback

    with Home(home_dir) as home:
        if not home.exists:
            raise _err(f"no local home at {home.path}: pass --home, --stack or --endpoint", 2)
        try:
            return callback(home.services, token, parse_callback(body))
        except CallbackRefused as exc:  # as reporting_remote_errors prints the API's
            raise _err(f"callback: {exc.message} (HTTP {exc.status.value})", 1) from None
        except NotFound as exc:
            raise _err(str(exc), 1) from None
        except RequestError as exc:
            raise _err(exc.message, 2) from None
