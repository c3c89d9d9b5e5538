"""grant_read and grant_operate: IAM on execute-api:Invoke per route, so a team gives
on-call people the actions on runs without the right to push or start, and auditors
only the reads."""

from __future__ import annotations

import json
from typing import Any

from infra_support import Synth


def _routes_of(custom: Synth, role: str) -> set[str]:
    out: set[str] = set()
    for policy in custom.resources("AWS::IAM::Policy").values():
        roles = json.dumps(policy["Properties"].get("Roles", []))
        if role not in roles:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Action"] != "execute-api:Invoke":
                continue
            resources = statement["Resource"]
            for arn in resources if isinstance(resources, list) else [resources]:
                joined: Any = arn["Fn::Join"][1]
                tail = "".join(part for part in joined if isinstance(part, str)).split("/", 2)
                out.add(tail[-1] if len(tail) > 2 else "")
    return out


def test_operators_get_the_actions_and_the_reads_but_not_push_or_start(custom: Synth) -> None:
    routes = _routes_of(custom, "OnCall")
    assert "POST/runs/*/actions" in routes
    assert "POST/runs/*/steps/actions" in routes
    assert "POST/workflows/*/unblock" in routes
    assert "GET/runs/*" in routes
    assert "POST/workflows" not in routes
    assert "POST/workflows/*/runs" not in routes


def test_readers_get_every_get_route_and_nothing_else(custom: Synth) -> None:
    routes = _routes_of(custom, "Auditors")
    assert routes and all(r.startswith("GET/") for r in routes), routes
    assert "GET/runs/*" in routes and "GET/console/runs" in routes


def test_operators_may_list_and_redrive_dead_letters_readers_may_not(custom: Synth) -> None:
    def sqs_actions(role: str) -> set[str]:
        found: set[str] = set()
        for policy in custom.resources("AWS::IAM::Policy").values():
            if role not in json.dumps(policy["Properties"].get("Roles", [])):
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                for action in actions if isinstance(actions, list) else [actions]:
                    if action.startswith("sqs:"):
                        found.add(action)
        return found

    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage"} <= sqs_actions("OnCall")
    assert sqs_actions("Auditors") == set()


def test_readers_and_operators_may_find_the_stack_for_the_cli(custom: Synth) -> None:
    """`podium ... --stack` reads the stack's outputs (DescribeStacks), and `podium dlq`
    takes only --stack: without the grant, both helpers' users could use neither."""
    for role in ("OnCall", "Auditors"):
        found = []
        for policy in custom.resources("AWS::IAM::Policy").values():
            if role not in json.dumps(policy["Properties"].get("Roles", [])):
                continue
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                if statement["Action"] == "cloudformation:DescribeStacks":
                    found.append(statement["Resource"])
        assert found == [{"Ref": "AWS::StackId"}], (role, found)
