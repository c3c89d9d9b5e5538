"""``podium dlq list`` prints what each dead letter was for in a rich Table, passing the
message text as markup (cli/dlq_commands.py ``_print`` passed ``m.summary()`` as it
was). Dead letters are by nature messages nobody controls: a stray plain-text body, a
custom event's detail-type. One holding ``[/...]`` made the listing crash with a
traceback (rich.errors.MarkupError: closing tag ... doesn't match any open tag), so the
runbook's first step could not be done; one holding ``[word]`` was silently shown
without it. Each cell is plain Text now."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration import test_remote_cli as remote
from tests.integration.test_remote_cli import Deployed, on_stack

deployed = remote.deployed
user = remote.user


def test_dlq_list_prints_bracketed_text_as_it_is(deployed: Deployed, user: Path) -> None:
    sqs, out = deployed.sqs, deployed.outputs
    sqs.send_message(QueueUrl=out["WorkDlqUrl"], MessageBody="[/tmp/x] stray test message")
    event = {"source": "acme.export", "detail-type": "[nightly] export done", "detail": {}}
    sqs.send_message(QueueUrl=out["TriggerDlqUrl"], MessageBody=json.dumps(event))

    listed = on_stack("dlq", "list")

    # Was: exit code 1, rich.errors.MarkupError: closing tag '[/tmp/x]' at position 10
    # doesn't match any open tag.
    assert listed.exit_code == 0, listed.output + repr(listed.exception)
    assert "[/tmp/x] stray test message" in listed.output
    assert "[nightly] export done" in listed.output
