"""podium dlq list|redrive [--dry-run]: the SQS DLQs of a stack on moto, and the local
home's dead-letter queues; a redriven message is handled again (idempotently)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podium.cli.main import app
from podium.local.runtime import LocalRuntime
from podium.service import messages
from tests.integration import test_remote_cli as remote
from tests.integration.test_remote_cli import Deployed, on_stack, write

deployed = remote.deployed
user = remote.user

CHAIN = """\
name: dlq_chain
steps:
  - {id: a, type: noop}
  - {id: b, type: noop, depends_on: [a]}
"""


def test_list_and_redrive_the_stacks_dead_letters(
    deployed: Deployed, user: Path, tmp_path: Path
) -> None:
    assert on_stack("push", str(write(tmp_path, "c.yaml", CHAIN))).exit_code == 0
    started = json.loads(on_stack("start", "dlq_chain", "--run-id", "dl-1", "--json").stdout)
    assert started["status"] == "RUNNING"
    # The start message died (say, an outage on every receive): it sits in the event DLQ.
    sqs, out = deployed.sqs, deployed.outputs
    got = sqs.receive_message(QueueUrl=out["EventQueueUrl"], MaxNumberOfMessages=10)["Messages"]
    for m in got:
        sqs.send_message(QueueUrl=out["EventDlqUrl"], MessageBody=m["Body"])
        sqs.delete_message(QueueUrl=out["EventQueueUrl"], ReceiptHandle=m["ReceiptHandle"])
    sqs.send_message(QueueUrl=out["TriggerDlqUrl"], MessageBody=json.dumps(
        {"source": "acme.billing", "detail-type": "InvoicePaid", "detail": {}}
    ))  # fmt: skip

    listed = on_stack("dlq", "list", "--json")
    assert listed.exit_code == 0, listed.output
    summaries = sorted(m["summary"] for m in json.loads(listed.stdout)["messages"])
    assert summaries == ["event InvoicePaid from acme.billing", "start dl-1"]
    assert "start dl-1" in on_stack("dlq", "list").output  # listing moved nothing

    dry = json.loads(on_stack("dlq", "redrive", "--dry-run", "--json").stdout)
    assert dry["dry_run"] and [m["summary"] for m in dry["messages"]] == ["start dl-1"]
    assert deployed.pump() == 0  # nothing was moved

    done = json.loads(on_stack("dlq", "redrive", "--json").stdout)
    assert [m["summary"] for m in done["messages"]] == ["start dl-1"]
    deployed.pump()
    run = json.loads(on_stack("runs", "show", "dl-1", "--json").stdout)["run"]
    assert run["status"] == "SUCCEEDED"
    left = json.loads(on_stack("dlq", "list", "--json").stdout)["messages"]
    assert [m["queue"] for m in left] == ["trigger"]  # trigger dead letters stay listed


def test_the_local_homes_dead_letters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PODIUM_CONFIG", "PODIUM_PROFILE", "PODIUM_HOME"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    with LocalRuntime(store="sqlite", home=home) as rt:
        rt.push(CHAIN)
        run = rt.start_run("dlq_chain")
        start = messages.encode(messages.Start(run.run_id))
        rt.event_dlq.send(start)  # as if the start had failed five receives
        rt.event_queue.purge()
    runner = CliRunner()

    def podium(*args: str) -> str:
        result = runner.invoke(app, [*args, "--home", str(home)])
        assert result.exit_code == 0, result.output
        return result.output

    assert f"start {run.run_id}" in podium("dlq", "list")
    assert f"start {run.run_id}" in podium("dlq", "redrive", "--dry-run")
    assert "none" not in podium("dlq", "list")
    assert f"start {run.run_id}" in podium("dlq", "redrive")
    assert "dead letters: none" in podium("dlq", "list")
    with LocalRuntime(store="sqlite", home=home) as rt:  # the next process adopts it
        rt.pump(run_id=run.run_id)
        assert rt.describe(run.run_id).run.status.value == "SUCCEEDED"
