"""With the default ``removal_policy=RETAIN``, ``cdk destroy`` kept the ``<prefix>``
schedule group, which has a fixed name: deploying the same stack again then failed
(the group already existed), and the schedules kept in it sent to the deleted queues
through the deleted Scheduler role, so they could only fail. The group now goes with
the stack whatever the policy, and nothing the stack retains carries a fixed name."""

from __future__ import annotations

from infra_support import Synth

# The CloudFormation properties that give a resource a name of its own choosing.
_NAME_PROPERTIES = ("Name", "TableName", "BucketName", "LogGroupName", "QueueName", "TopicName")


def test_the_schedule_group_is_deleted_with_a_retained_stack(default: Synth) -> None:
    (group,) = default.resources("AWS::Scheduler::ScheduleGroup").values()
    assert group["DeletionPolicy"] == "Delete"
    assert group["UpdateReplacePolicy"] == "Delete"


def test_nothing_retained_has_a_fixed_name(default: Synth) -> None:
    """A retained resource with a fixed name blocks the next deploy of the stack."""
    retained = {
        logical_id: resource
        for logical_id, resource in default.template.to_json()["Resources"].items()
        if resource.get("DeletionPolicy") == "Retain"
    }
    assert retained  # the table, the bucket, the log groups
    named = {
        logical_id: names
        for logical_id, resource in retained.items()
        if (names := [p for p in _NAME_PROPERTIES if p in resource.get("Properties", {})])
    }
    assert not named, f"retained resources with a fixed name: {named}"
