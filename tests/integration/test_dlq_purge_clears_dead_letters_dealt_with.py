"""Dead letters dealt with by hand (a trigger's, whose run was started with ``podium
start``; one that failed again, its run restarted) stayed in their DLQ: neither the
runbook nor ``podium dlq`` (list, redrive) had a way to remove them, so the DLQ's
``*-dlq-not-empty`` alarm kept firing for its 14 days' retention. ``podium dlq purge
--queue work|event|trigger`` deletes them, on a stack and on the local home, asking
first unless ``--yes``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.local.runtime import LocalRuntime
from podium.service import messages
from tests.integration import dlq_support
from tests.integration.dlq_support import count, execs, fill, on_stack

stack = dlq_support.stack
user = dlq_support.user

PAID = {"source": "acme.billing", "detail-type": "InvoicePaid", "detail": {}}


def test_purge_emptied_the_trigger_dlq_after_asking(stack: dict[str, str], user: Path) -> None:
    fill(stack["TriggerDlqUrl"], [PAID, PAID])
    fill(stack["WorkDlqUrl"], execs(1))

    refused = on_stack("dlq", "purge", "--queue", "trigger", input="n\n")
    assert refused.exit_code == 1, refused.output
    assert "delete the 2 dead letter(s) of the trigger DLQ" in refused.output
    assert count(stack["TriggerDlqUrl"]) == 2

    done = on_stack("dlq", "purge", "--queue", "trigger", input="y\n")
    assert done.exit_code == 0, done.output
    assert done.output.count("event InvoicePaid from acme.billing") == 2
    assert count(stack["TriggerDlqUrl"]) == 0
    assert count(stack["WorkDlqUrl"]) == 1  # another queue's are left alone


def test_purge_with_yes_did_not_ask(stack: dict[str, str], user: Path) -> None:
    fill(stack["WorkDlqUrl"], execs(25))

    done = on_stack("dlq", "purge", "--queue", "work", "--yes", "--json")

    assert done.exit_code == 0, done.output
    said = json.loads(done.stdout)
    assert said["count"] == 25 and said["left"]["waiting"] == 0
    assert count(stack["WorkDlqUrl"]) == 0


def test_purge_of_an_unknown_queue_was_refused(stack: dict[str, str], user: Path) -> None:
    done = on_stack("dlq", "purge", "--queue", "works", "--yes")
    assert done.exit_code == 2, done.output
    assert "no works DLQ here" in done.output


def test_purge_on_the_local_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PODIUM_CONFIG", "PODIUM_PROFILE", "PODIUM_HOME"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.work_dlq.send(messages.encode(messages.Start("gone-run")))
        rt.event_dlq.send(messages.encode(messages.Start("kept-run")))
    runner = CliRunner()

    def podium(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, "--home", str(home)])
        assert result.exit_code == code, result.output
        return result.output

    assert "start gone-run" in podium("dlq", "purge", "--queue", "work", "--yes")
    listed = podium("dlq", "list")
    assert "start gone-run" not in listed and "start kept-run" in listed
    assert "no trigger DLQ here" in podium("dlq", "purge", "--queue", "trigger", code=2)
