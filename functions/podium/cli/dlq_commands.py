"""``podium dlq list|redrive [--dry-run]``: the dead letters of the local home or of a
deployed stack (its SQS DLQs, reached with your AWS credentials; the URLs come from the
stack's outputs). docs/operations.md has the alarm's runbook."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from podium.cli.local_home import Home, print_missing_home
from podium.cli.remote import aws_session, region_of, resolve_target, stack_outputs
from podium.cli.target_options import (
    AwsProfileOption,
    HomeOption,
    JsonOption,
    ProfileOption,
    RegionOption,
    StackOption,
    reporting_remote_errors,
    uses_local_home,
)
from podium.service.dead_letters import MAX_LIST, DeadLetter, DeadLetterQueues, redrive

dlq_app = typer.Typer(
    help="Dead letters: messages a queue gave up on (list them, fix the cause, redrive).",
    no_args_is_help=True,
    add_completion=False,
)
LimitOption = Annotated[
    int, typer.Option("--limit", min=1, max=MAX_LIST, help="At most this many messages.")
]


def _out() -> Console:
    return Console(soft_wrap=True)


@contextmanager
def _queues(
    home: Path | None,
    stack: str | None,
    profile: str | None,
    region: str | None,
    aws_profile: str | None,
) -> Iterator[DeadLetterQueues]:
    if uses_local_home(home, stack, None, profile):
        from podium.adapters.clock import SystemClock
        from podium.adapters.sqlite import Database
        from podium.adapters.sqlite.dead_letters import HomeDeadLetters

        opened = Home(home)
        if not opened.exists:
            print_missing_home(opened)
            raise typer.Exit(1)
        db = Database(opened.database)
        try:
            yield HomeDeadLetters(db, SystemClock())
        finally:
            db.close()
        return
    from podium.adapters.sqs_dead_letters import SqsDeadLetters

    with reporting_remote_errors():
        target = resolve_target(
            stack=stack, profile=profile, region=region, aws_profile=aws_profile
        )
        if target.stack is None:
            Console(stderr=True).print(
                Text("podium dlq reads a stack's queues: pass --stack NAME", style="red")
            )
            raise typer.Exit(2)
        session = aws_session(target)
        where = region_of(target, session, None)
        outputs = stack_outputs(session, target.stack, where)
    missing = [k for k in ("WorkDlqUrl", "EventDlqUrl") if k not in outputs]
    if missing:
        Console(stderr=True).print(
            Text(
                f"stack '{target.stack}' has no {', '.join(missing)} output: deploy this"
                " version of the construct (Podium.add_outputs)",
                style="red",
            )
        )
        raise typer.Exit(1)
    queues: dict[str, tuple[str, str | None]] = {
        "work": (outputs["WorkDlqUrl"], outputs.get("WorkQueueUrl")),
        "event": (outputs["EventDlqUrl"], outputs.get("EventQueueUrl")),
    }
    if "TriggerDlqUrl" in outputs:
        queues["trigger"] = (outputs["TriggerDlqUrl"], None)
    yield SqsDeadLetters(session.client("sqs", region_name=where), queues)


def _print(letters: list[DeadLetter], as_json: bool, title: str, extra: dict[str, Any]) -> None:
    if as_json:
        sys.stdout.write(
            json.dumps({**extra, "messages": [m.as_json() for m in letters]}, indent=2) + "\n"
        )
        return
    if not letters:
        _out().print(f"{title}: none", highlight=False)
        return
    table = Table("queue", "message", "what", "receives", title=title)
    for m in letters:  # Text: a message's own "[...]" is no console markup
        cells = (m.queue, m.message_id[:20], m.summary(), str(m.receive_count or "-"))
        table.add_row(*(Text(cell) for cell in cells))
    _out().print(table)


@dlq_app.command("list")
def list_dead_letters(
    limit: LimitOption = MAX_LIST,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """The dead letters, left where they are."""
    with _queues(home, stack, profile, region, aws_profile) as queues:
        letters = queues.peek(limit)
    _print(letters, as_json, "dead letters", {})


@dlq_app.command("redrive")
def redrive_dead_letters(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be moved; move nothing.")
    ] = False,
    limit: LimitOption = MAX_LIST,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Send dead letters back to the queue they came from (handlers are idempotent: one
    handled meanwhile does nothing). Trigger dead letters stay: they are listed only."""
    with _queues(home, stack, profile, region, aws_profile) as queues:
        done = redrive(queues, dry_run=dry_run, limit=limit)
    title = "would redrive (dry run)" if dry_run else "redriven"
    _print(done.moved, as_json, title, {"dry_run": dry_run})
