"""Found by a review (each test failed before its fix): docs/deploy.md against the calls
the code makes with the permissions it tells people to grant.

- "Add Podium to an existing CDK app" wired Glue steps by hand ("Every part is an
  attribute, for your own wiring, e.g. Glue steps:") with ``glue:StartJobRun`` and
  ``glue:GetJobRun`` on the work function only. A ``glue_job`` step's start first looks
  its run up with ``GetJobRuns`` (adapters/jobs/glue.py ``_search``), refused there:
  ``lookup_failed`` failed the step as ``Podium.ConfigError`` and nothing started (a stop
  needs ``BatchStopJobRun``, the events function ``GetJobRun``). The example now uses the
  construct's own ``glue_job_names`` prop, which grants all of them and adds the rule for
  the jobs' state changes.
- "IAM for CLI users" listed what ``podium dlq`` needs on the DLQs, but ``podium dlq
  list`` (adapters/sqs_dead_letters.py ``peek``) makes what it read visible again with
  ``ChangeMessageVisibilityBatch``, authorized by ``sqs:ChangeMessageVisibility``, which
  the list left out: a policy written from it was refused after the receive. The list
  now names it, and ``sqs:GetQueueAttributes`` (each DLQ's counts) since ``podium dlq``
  calls it for them.

No synthesis: the doc and the adapters' source are read as text."""

from __future__ import annotations

import re

from infra_support import REPO_ROOT

DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"
ADAPTERS = REPO_ROOT / "functions" / "podium" / "adapters"


def _iam_action(service: str, method: str) -> str:
    """boto3's snake_case method -> the IAM action of the same operation."""
    return f"{service}:" + "".join(part.capitalize() for part in method.split("_"))


def _calls(source: str, client: str) -> set[str]:
    """The boto3 methods called (or passed to be called) on ``self.<client>``."""
    return set(re.findall(rf"self\.{re.escape(client)}\.([a-z_]+)\b", source))


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end >= 0 else len(text)]


def test_the_existing_app_example_grants_what_a_glue_step_calls() -> None:
    """Right behaviour: the example's Glue wiring works, i.e. it uses the construct's
    ``glue_job_names`` prop, or a hand-made grant names every Glue action a glue_job step
    makes (adapters/jobs/glue.py). Before the fix it granted StartJobRun and GetJobRun
    only."""
    section = _section(DEPLOY_DOC.read_text(), "## Add Podium to an existing CDK app")
    granted = set(re.findall(r'"(glue:[A-Za-z]+)"', section))
    if not granted:
        return  # no hand-made Glue grant (the props do it): nothing to check
    source = (ADAPTERS / "jobs" / "glue.py").read_text()
    called = {_iam_action("glue", m) for m in _calls(source, "_glue")}
    assert "glue:StartJobRun" in called  # the source was read as expected
    missing = sorted(called - granted)
    assert not missing, (
        f"docs/deploy.md's existing-app example grants {sorted(granted)} for Glue steps,"
        f" but a glue_job step also calls {missing} (adapters/jobs/glue.py): its steps"
        " fail with Podium.ConfigError; use glue_job_names=[...] instead"
    )


def test_the_cli_permissions_for_podium_dlq_name_every_sqs_action_it_makes() -> None:
    """Right behaviour: the sentence naming what ``podium dlq`` needs lists every SQS
    action adapters/sqs_dead_letters.py makes. Before the fix sqs:ChangeMessageVisibility
    (of ``change_message_visibility_batch``, used by every ``podium dlq list``) was
    missing."""
    text = DEPLOY_DOC.read_text()
    start = text.index("`podium dlq` also needs")
    sentence = text[start : text.index("\n\n", start)]
    named = set(re.findall(r"sqs:[A-Za-z]+", sentence))
    source = (ADAPTERS / "sqs_dead_letters.py").read_text()
    called = {_iam_action("sqs", m).removesuffix("Batch") for m in _calls(source, "_sqs")}
    assert "sqs:ReceiveMessage" in called  # the source was read as expected
    missing = sorted(called - named)
    assert not missing, (
        f"docs/deploy.md says podium dlq needs {sorted(named)}; it also calls {missing}"
    )
