"""``trigger_event_buses=[<bus ARN>]`` synthesized a rule whose deliveries said
``podium_bus=<the ARN>``, while an event trigger names its bus by name (``bus:
orders``; push refuses a ':' in it), so no trigger on that bus ever fired, silently.
Now an ARN of a bus of the stack's account and region gets its rule on that bus, its
events labelled with the bus's name; a bus of another account or region, a value that
is neither a bus's name nor its ARN, and a bus listed twice are refused at synthesis
naming trigger_event_buses.

One synthesis (no cdk-nag); the refusals need none."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk.assertions import Template
from infra_support import cdk_context

ACCOUNT, REGION = "123456789012", "eu-west-1"
BUS_ARN = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orders"


def _stack(app: App) -> Stack:
    return Stack(app, "BusArn", env=Environment(account=ACCOUNT, region=REGION))


def test_a_bus_given_by_its_arn_labels_its_events_with_its_name(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from podium_cdk import Podium

    app = App(context=cdk_context(), outdir=str(tmp_path_factory.mktemp("bus-arn")))
    stack = _stack(app)
    Podium(stack, "Podium", trigger_event_buses=[BUS_ARN, "invoices"])
    template: dict[str, Any] = Template.from_stack(stack).to_json()
    labels = {
        resource["Properties"].get("EventBusName"): [
            target["InputTransformer"]["InputTemplate"]
            for target in resource["Properties"]["Targets"]
        ]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Events::Rule"
        and "Event triggers on the bus" in resource["Properties"].get("Description", "")
    }
    assert set(labels) == {BUS_ARN, "invoices"}, labels
    assert all('"podium_bus":"orders"' in t for t in labels[BUS_ARN]), labels
    assert all('"podium_bus":"invoices"' in t for t in labels["invoices"]), labels


@pytest.mark.parametrize(
    ("buses", "says"),
    [
        ([f"arn:aws:events:{REGION}:999999999999:event-bus/orders"], "another account"),
        ([f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/orders"], "another region"),
        (["orders:prod"], "not an event bus's name or ARN"),
        (["arn:aws:sqs:eu-west-1:123456789012:orders"], "not an event bus's name or ARN"),
        ([BUS_ARN, "orders"], "listed twice"),
        ([f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default"], "the default bus"),
    ],
)
def test_a_bus_no_trigger_could_name_is_refused_naming_the_prop(
    buses: list[str], says: str
) -> None:
    from podium_cdk import Podium

    with pytest.raises(ValueError, match="trigger_event_buses") as refused:
        Podium(_stack(App(context=cdk_context())), "Podium", trigger_event_buses=buses)
    assert says in str(refused.value)
