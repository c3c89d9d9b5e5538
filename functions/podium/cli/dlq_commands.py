"""``podium dlq list|redrive [--dry-run]|purge --queue Q``: the dead letters of the local
home or of a deployed stack (its SQS DLQs, reached with your AWS credentials; the URLs
come from the stack's outputs). docs/operations.md has the alarm's runbook."""

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
from podium.service.dead_letters import (
    MAX_LIST,
    DeadLetter,
    DeadLetterCount,
    DeadLetterQueues,
    purge,
    redrive,
)

dlq_app = typer.Typer(
    help="Dead letters: messages a queue gave up on (list them, fix the cause, redrive,"
    " purge those dealt with).",
    no_args_is_help=True,
    add_completion=False,
)
LimitOption = Annotated[
    int,
    typer.Option("--limit", min=1, max=MAX_LIST, help="Show at most this many messages."),
]
# What podium dlq calls on a stack's queues: the construct's grant_operate allows them
# (grant_consume_messages on the DLQs, grant_send_messages on the work and event queues).
_NEEDS = (
    "podium dlq needs sqs:GetQueueAttributes, sqs:ReceiveMessage, sqs:ChangeMessageVisibility"
    " and sqs:DeleteMessage on the stack's DLQs and sqs:SendMessage on its work and event"
    " queues: the Podium construct's grant_operate gives them"
)


def _out() -> Console:
    return Console(soft_wrap=True, markup=False, emoji=False)  # dead letters hold anyone's text


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
            Console(stderr=True, emoji=False).print(
                Text("podium dlq reads a stack's queues: pass --stack NAME", style="red")
            )
            raise typer.Exit(2)
        session = aws_session(target)
        where = region_of(target, session, None)
        outputs = stack_outputs(session, target.stack, where)
    missing = [k for k in ("WorkDlqUrl", "EventDlqUrl") if k not in outputs]
    if missing:
        Console(stderr=True, emoji=False).print(
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
    from podium.adapters.sqs_dead_letters import DeadLetterQueueError

    try:
        yield SqsDeadLetters(session.client("sqs", region_name=where), queues)
    except DeadLetterQueueError as exc:  # one line, not a botocore traceback
        why = f" ({_NEEDS})" if exc.refused else ""
        Console(stderr=True, emoji=False).print(
            Text(f"error: {exc}{why}", style="red"), highlight=False
        )
        raise typer.Exit(1) from None


def _empty_home_counts() -> list[dict[str, Any]]:
    """The DLQs of a home where nothing ran, each empty (read from a home in memory:
    reading makes no home, and the queues are named as a home's are)."""
    from podium.adapters.clock import SystemClock
    from podium.adapters.sqlite import Database
    from podium.adapters.sqlite.dead_letters import HomeDeadLetters

    db = Database(":memory:")
    try:
        return [c.as_json() for c in HomeDeadLetters(db, SystemClock()).counts()]
    finally:
        db.close()


def _held(count: DeadLetterCount, shown: int) -> str:
    """What a DLQ holds beyond the messages shown of it."""
    parts = [f"{count.queue} DLQ: {count.waiting} waiting"]
    if count.waiting > shown:
        parts.append(f"{count.waiting - shown} more not shown")
    if count.in_flight:
        # Another podium dlq command reading them (a listing hides what it reads for
        # 30 s): a redrive or purge meanwhile passes them by.
        parts.append(
            f"{count.in_flight} in flight (being read elsewhere: visible again within 30 s)"
        )
    return ", ".join(parts)


def _print(
    letters: list[DeadLetter],
    as_json: bool,
    title: str,
    extra: dict[str, Any],
    *,
    limit: int | None = None,
) -> None:
    shown = letters if limit is None else letters[:limit]
    if as_json:
        sys.stdout.write(
            json.dumps({**extra, "messages": [m.as_json() for m in shown]}, indent=2) + "\n"
        )
        return
    if not shown:
        _out().print(f"{title}: none", highlight=False)
        return
    # No receive count: SQS counts each read of a DLQ (this listing's too) as a receive.
    table = Table("queue", "message", "what", title=title)
    for m in shown:  # Text: a message's own "[...]" is no console markup
        cells = (m.queue, m.message_id[:20], m.summary())
        table.add_row(*(Text(cell) for cell in cells))
    _out().print(table)
    if len(letters) > len(shown):
        _out().print(
            f"{len(letters)} in all, {len(letters) - len(shown)} not shown", highlight=False
        )


def _say(lines: list[str]) -> None:
    for line in lines:
        _out().print(Text(line), highlight=False)


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
    """The dead letters, left where they are (the limit is shared between the DLQs)."""
    if uses_local_home(home, stack, None, profile) and not Home(home).exists:
        # A home where nothing ran has no dead letter: the answer of an empty home, exit
        # 0, as `podium runs list` and `podium workflows list` say it (it was exit 1).
        if as_json:
            _print([], True, "", {"queues": _empty_home_counts()})
        else:
            print_missing_home(Home(home))
        return
    with _queues(home, stack, profile, region, aws_profile) as queues:
        counts = queues.counts()
        letters = queues.peek(limit)
    if as_json:
        _print(letters, True, "", {"queues": [c.as_json() for c in counts]})
        return
    held = [c for c in counts if c.waiting or c.in_flight]
    if letters or held:
        _print(letters, False, "dead letters", {})
    else:
        _out().print("dead letters: none", highlight=False)
    _say([_held(c, sum(m.queue == c.queue for m in letters)) for c in held])


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
    """Send every dead letter back to the queue it came from (up to 10,000 a time;
    handlers are idempotent: one handled meanwhile does nothing). Trigger dead letters
    stay: they are listed only."""
    with _queues(home, stack, profile, region, aws_profile) as queues:
        done = redrive(queues, dry_run=dry_run, limit=limit)
    title = "would redrive (dry run)" if dry_run else "redriven"
    _print(done.moved, as_json, title, done.as_json(), limit=limit)
    if as_json:
        return
    lines = []
    for c in (c for c in done.left if c.waiting or c.in_flight):
        if dry_run:
            if c.queue != "trigger":
                lines.append(_held(c, sum(m.queue == c.queue for m in done.moved)))
        elif c.queue == "trigger":
            lines.append(
                f"trigger DLQ: {c.waiting + c.in_flight} left, not redriven (start their runs"
                " with podium start, then podium dlq purge --queue trigger)"
            )
        else:
            capped = f" ({len(done.moved)} are moved at most a time)" if done.capped else ""
            lines.append(_left(c) + capped)
    _say(lines)


def _left(count: DeadLetterCount) -> str:
    """A DLQ not emptied: a redrive or purge passes by those in flight."""
    busy = (
        f", {count.in_flight} of them in flight (being read elsewhere: visible again within 30 s)"
        if count.in_flight
        else ""
    )
    return f"{count.queue} DLQ: {count.waiting + count.in_flight} left{busy}: run it again"


QueueOption = Annotated[
    str,
    typer.Option("--queue", help="The DLQ to empty: work, event or trigger (a stack's only)."),
]


@dlq_app.command("purge")
def purge_dead_letters(
    queue: QueueOption,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    limit: LimitOption = MAX_LIST,
    as_json: JsonOption = False,
    home: HomeOption = None,
    stack: StackOption = None,
    profile: ProfileOption = None,
    region: RegionOption = None,
    aws_profile: AwsProfileOption = None,
) -> None:
    """Delete the dead letters of one DLQ, once dealt with (their runs restarted or
    started by hand), so its alarm stops; they are gone for good."""
    with _queues(home, stack, profile, region, aws_profile) as queues:
        counts = {c.queue: c for c in queues.counts()}
        if queue not in counts:
            Console(stderr=True, emoji=False).print(
                Text(f"no {queue} DLQ here: pass --queue {' or '.join(counts)}", style="red"),
                highlight=False,
            )
            raise typer.Exit(2)
        held = counts[queue].waiting + counts[queue].in_flight
        if not yes and held:
            typer.confirm(
                f"delete the {held} dead letter(s) of the {queue} DLQ for good?", abort=True
            )
        # Asked, no more than the operator was told of: a dead letter that arrived while
        # the question was on screen is left for them to look at.
        done = purge(queues, queue, most=None if yes else held)
    _print(
        done.deleted,
        as_json,
        f"purged ({queue} DLQ)",
        {"queue": queue, "count": len(done.deleted), "left": done.left.as_json()},
        limit=limit,
    )
    if not as_json and (done.left.waiting or done.left.in_flight):
        _say([_left(done.left)])
