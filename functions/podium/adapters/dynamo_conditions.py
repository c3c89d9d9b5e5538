"""Conditional writes on the single table that the store and its permits both build: the
condition that a status is one of those expected, and a step's conditional transition
(``DynamoStateStore.transition_step`` alone, ``DynamoPermits`` inside its transactions);
and the error code a refused write answered with (every DynamoDB adapter reads it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from podium.adapters import dynamo_codec as c
from podium.core.engine.status import StepStatus


def error_code(exc: ClientError) -> str:
    """``ConditionalCheckFailedException``, ``TransactionCanceledException``, ..."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def status_in(
    name: str, expected: frozenset[Any], values: dict[str, Any], names: dict[str, str]
) -> str:
    """The condition that the status attribute (``st``, as ``name``) is in ``expected``;
    adds its placeholders to ``names`` and ``values``."""
    names[name] = "st"
    placeholders = []
    for i, status in enumerate(sorted(s.value for s in expected)):
        values[f":e{i}"] = {"S": status}
        placeholders.append(f":e{i}")
    return f"{name} IN ({', '.join(placeholders)})"


def step_transition(
    table: str,
    run_id: str,
    step: str,
    expected: frozenset[StepStatus],
    attempt: int | None,
    to: StepStatus,
    changes: Mapping[str, Any],
    unless_result: bool = False,
) -> dict[str, Any]:
    """The conditional update of a step transition (alone, or inside a transaction);
    ``unless_result``: and no result noted for ``attempt`` (StateStore.note_result)."""
    sets, removes, names, values = c.update_parts({"status": to, **changes}, c.STEP_FIELDS, "f")
    cond = status_in("#cst", expected, values, names)
    if attempt is not None:
        names["#cat"] = "at"
        values[":cat"] = {"N": str(attempt)}
        cond += " AND #cat = :cat"
        if unless_result:
            names["#crf"] = c.STEP_FIELDS["result_for"][0]
            cond += " AND (attribute_not_exists(#crf) OR #crf <> :cat)"
    return {
        "TableName": table,
        "Key": c.key(c.run_pk(run_id), c.step_sk(step)),
        "UpdateExpression": c.expression(sets, removes),
        "ConditionExpression": cond,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
