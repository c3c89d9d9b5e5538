"""The ready stack's ``-c podium:<key>`` settings (infra/podium_cdk/stack.py
``props_from_context``): a key the stack did not know was dropped without a word, and
the stack deployed without the setting the operator asked for."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App
from infra_support import REPO_ROOT

from podium_cdk import props_from_context


def test_a_misspelt_context_key_is_refused_naming_it() -> None:
    """`npx cdk deploy -c podium:alarmEmial=ops@example.com` deployed a stack whose
    alarms notified nobody, and said nothing (props_from_context read only the keys it
    knew). A `podium:` key it does not know now stops the synthesis with a ValueError
    that names the key, the key it was likely meant to be, and the known ones, as a
    misspelt PodiumProps keyword is a TypeError."""
    with pytest.raises(ValueError) as refused:
        props_from_context(App(context={"podium:alarmEmial": "ops@example.com"}))
    said = str(refused.value)
    assert "podium:alarmEmial" in said, said
    assert "did you mean podium:alarmEmail?" in said, said
    assert "podium:namePrefix" in said, said  # the known keys are listed


def test_the_keys_read_outside_the_props_are_not_refused() -> None:
    """stackName (infra/app.py) and skipBundling (code.py) are read elsewhere, and
    other context (CDK's feature flags) is not Podium's to judge."""
    props = props_from_context(
        App(
            context={
                "podium:stackName": "Podium-dev",
                "podium:skipBundling": "true",
                "@aws-cdk/core:newStyleStackSynthesis": True,
                "podium:namePrefix": "dev",
            }
        )
    )
    assert props.name_prefix == "dev"


# Props that docs/deploy.md documents for the construct, written as the ready stack's
# other keys are (camelCase after "podium:"), with the value props_from_context gives.
_DOCUMENTED_PROPS: list[tuple[dict[str, str], dict[str, Any]]] = [
    ({"podium:glueJobNames": "nightly-etl"}, {"glue_job_names": ("nightly-etl",)}),
    (
        {"podium:sfnStateMachineArns": "arn:aws:states:eu-west-1:123456789012:stateMachine:s"},
        {"sfn_state_machine_arns": ("arn:aws:states:eu-west-1:123456789012:stateMachine:s",)},
    ),
    (
        {
            "podium:batchJobQueueArns": "arn:aws:batch:eu-west-1:123456789012:job-queue/q",
            "podium:batchJobDefinitionArns": (
                "arn:aws:batch:eu-west-1:123456789012:job-definition/d:*"
            ),
        },
        {
            "batch_job_queue_arns": ("arn:aws:batch:eu-west-1:123456789012:job-queue/q",),
            "batch_job_definition_arns": (
                "arn:aws:batch:eu-west-1:123456789012:job-definition/d:*",
            ),
        },
    ),
    (
        {"podium:httpHosts": "api.example.com, *.internal.example.com"},
        {"http_hosts": ("api.example.com", "*.internal.example.com")},
    ),
    ({"podium:secretNames": "warehouse/token"}, {"secret_names": ("warehouse/token",)}),
]


@pytest.mark.parametrize(
    ("context", "fields"), _DOCUMENTED_PROPS, ids=[next(iter(c)) for c, _ in _DOCUMENTED_PROPS]
)
def test_a_documented_prop_given_as_context_is_read(
    context: dict[str, str], fields: dict[str, Any]
) -> None:
    """The ready stack read the ecs_* props from context but not glue_job_names,
    sfn_state_machine_arns, batch_job_*, http_hosts or secret_names: `-c
    podium:glueJobNames=nightly-etl` deployed without the Glue grants and rule, every
    glue_job step then failed with Podium.ConfigError, and the synthesis said nothing.
    Each is now read (comma-separated) into its prop."""
    props = props_from_context(App(context=context))
    got = {name: tuple(getattr(props, name)) for name in fields}
    assert got == fields


def test_every_known_key_is_in_the_deploy_docs_table() -> None:
    """docs/deploy.md's context-key table lacked the keys the stack came to read; every
    key props_from_context accepts has its row."""
    from podium_cdk.stack import KNOWN_CONTEXT_KEYS

    text = (REPO_ROOT / "docs" / "deploy.md").read_text()
    rows = {line.split("`")[1] for line in text.splitlines() if line.startswith("| `podium:")}
    assert set(KNOWN_CONTEXT_KEYS) == rows
