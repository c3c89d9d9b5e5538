"""``-c podium:removalPolicy`` offered a value the construct refuses.

The refusal of an unknown value listed ``snapshot`` among the ones that work, and
following it was refused in turn by PodiumProps ("removal_policy SNAPSHOT: DynamoDB
tables do not support it"): the operator's next try failed too."""

from __future__ import annotations

import re

import pytest
from aws_cdk import App

from podium_cdk import props_from_context


def test_every_removal_policy_the_refusal_offers_is_taken() -> None:
    """`-c podium:removalPolicy=keep` answered "one of retain, destroy, snapshot,
    retain_on_update_or_delete"; `snapshot` was then refused. The refusal now offers
    only the values the construct takes."""
    with pytest.raises(ValueError) as refused:
        props_from_context(App(context={"podium:removalPolicy": "keep"}))
    offered = re.search(r"one of ([a-z_, ]+);", str(refused.value))
    assert offered, str(refused.value)
    not_taken = {}
    for value in (v.strip() for v in offered.group(1).split(",")):
        try:
            props_from_context(App(context={"podium:removalPolicy": value}))
        except ValueError as exc:
            not_taken[value] = str(exc)
    assert not not_taken, f"{refused.value} offers values the construct refuses: {not_taken}"
