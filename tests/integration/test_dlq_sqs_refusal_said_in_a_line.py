"""``podium dlq`` on a stack whose SQS calls the caller may not make: the runbook's first
step, ``podium dlq list --stack NAME``, raised botocore's ClientError (AccessDenied) out
of the command as a traceback (cli/dlq_commands.py turned only the stack lookup's
errors into a line). It says in one line which call on which DLQ was refused, and what
podium dlq needs (the construct's grant_operate gives it), and exits 1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from podium.cli import dlq_commands
from tests.integration import dlq_support
from tests.integration.dlq_support import execs, fill, on_stack

stack = dlq_support.stack
user = dlq_support.user


def _refusing(monkeypatch: pytest.MonkeyPatch, *operations: str) -> None:
    """Credentials that may read the stack but not make ``operations`` on SQS."""
    real_session = dlq_commands.aws_session  # type: ignore[attr-defined]

    def refuse(event_name: str, **kwargs: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDenied",
                    "Message": "User: arn:aws:iam::123456789012:user/ops is not authorized"
                    f" to perform: sqs:{operation.lower()}",
                }
            },
            operation,
        )

    def session_without_sqs(target: Any) -> Any:
        session = real_session(target)
        for operation in operations:
            session.events.register(f"before-call.sqs.{operation}", refuse)
        return session

    monkeypatch.setattr(dlq_commands, "aws_session", session_without_sqs)


def test_dlq_list_without_sqs_permission_said_in_a_line(
    stack: dict[str, str], monkeypatch: pytest.MonkeyPatch, user: Path
) -> None:
    """An operator without grant_operate got a botocore traceback from ``dlq list``."""
    fill(stack["WorkDlqUrl"], execs(1))
    _refusing(monkeypatch, "ReceiveMessage")

    listed = on_stack("dlq", "list")

    assert listed.exit_code != 0
    # Was: ClientError('An error occurred (AccessDenied) when calling the ReceiveMessage
    # operation: ...') raised out of the command (a traceback).
    assert isinstance(listed.exception, SystemExit), repr(listed.exception)
    assert "ReceiveMessage" in listed.output or "grant_operate" in listed.output
    assert listed.exit_code == 1
    said = " ".join(listed.output.split())
    assert "ReceiveMessage" in said and "AccessDenied" in said and "DLQ" in said, said
    assert "grant_operate" in said and "sqs:ReceiveMessage" in said, said
    assert "Traceback" not in said


def test_dlq_redrive_refused_its_send_said_in_a_line(
    stack: dict[str, str], monkeypatch: pytest.MonkeyPatch, user: Path
) -> None:
    """A role that may read the DLQs but not send to the work queue got a traceback from
    ``dlq redrive`` (SendMessage); it is told, and the dead letter stays."""
    fill(stack["WorkDlqUrl"], execs(1))
    _refusing(monkeypatch, "SendMessage", "SendMessageBatch")

    done = on_stack("dlq", "redrive")

    assert done.exit_code == 1, done.output
    assert isinstance(done.exception, SystemExit), repr(done.exception)
    said = " ".join(done.output.split())
    assert "SendMessage" in said and "work DLQ" in said and "grant_operate" in said, said
    assert dlq_support.count(stack["WorkDlqUrl"]) == 1
