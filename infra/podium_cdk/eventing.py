"""EventBridge: the Podium bus, the Scheduler group for timers and cron triggers, and
the rules that feed the events and sweep functions."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .props import event_bus_name, trigger_bus_name


class Eventing(Construct):
    """The bus for signals and custom triggers, and the Scheduler group whose schedules
    (cron triggers, timers longer than SQS's 15-minute delay) send to the event queue.

    Attributes: ``bus``, ``schedule_group``, ``scheduler_role``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        event_queue: sqs.IQueue,
        work_queue: sqs.IQueue,
        dead_letter_queues: Sequence[sqs.IQueue] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        account = Stack.of(self).account
        self.bus = events.EventBus(self, "Bus", event_bus_name=event_bus_name(name_prefix))
        # Deleted with the stack whatever removal_policy says (deleting the group deletes
        # its schedules): its timers and cron schedules send to this stack's queues
        # through this stack's role, so once those are gone they only fail, and the
        # group keeps no history (the table does; a push remakes a trigger's schedule).
        # Kept, its fixed name would make the next deploy of the same prefix fail.
        self.schedule_group = scheduler.ScheduleGroup(
            self,
            "ScheduleGroup",
            schedule_group_name=name_prefix,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # The Scheduler assumes this role to deliver each schedule to a queue: timers
        # longer than SQS's 15-minute delay (a waiting step's completion or deadline to
        # the event queue, a retry's next attempt to the work queue).
        # The conditions stop other accounts' schedules (confused deputy) and schedules
        # outside Podium's group from using it; the Scheduler names the group, not the
        # schedule, as the source ARN.
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            description="EventBridge Scheduler delivers Podium timers and cron triggers",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": account,
                        "aws:SourceArn": self.schedule_group.schedule_group_arn,
                    },
                },
            ),
        )
        # And to the queues' DLQs: a firing that still fails after Scheduler's 24 hours
        # of retries is put there (adapters/timers.py SchedulerTarget), not dropped.
        self.scheduler_role.add_to_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"],
                resources=[
                    event_queue.queue_arn,
                    work_queue.queue_arn,
                    *(q.queue_arn for q in dead_letter_queues),
                ],
            )
        )

    def schedule_arn_pattern(self) -> str:
        """Every schedule in Podium's group; their names are made at run time."""
        return Stack.of(self).format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{self.schedule_group.schedule_group_name}/*",
        )


class Triggers(Construct):
    """Rules that start runs from events, and the sweeper's clock.

    - every event put on the Podium bus (signals, custom triggers);
    - S3 ``Object Created`` events of the trigger buckets (S3 sends them to the
      account's default bus once EventBridge notifications are on for the bucket);
    - any extra event patterns, matched on the default bus (AWS service events);
    - a schedule that runs the sweeper.

    Attributes: ``bus_rule``, ``s3_rule`` (or None), ``pattern_rules``, ``sweep_rule``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bus: events.IEventBus,
        events_function: lambda_.IFunction,
        sweep_function: lambda_.IFunction,
        trigger_dlq: sqs.IQueue,
        trigger_bucket_names: Sequence[str],
        trigger_event_patterns: Sequence[events.EventPattern],
        sweep_interval: Duration,
        trigger_event_buses: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        # EventBridge retries a failed delivery for a day; what still fails lands in
        # the trigger DLQ.
        to_events = targets.LambdaFunction(events_function, dead_letter_queue=trigger_dlq)
        account = Stack.of(self).account
        self.bus_rule = events.Rule(
            self,
            "BusRule",
            event_bus=bus,
            description="Signals and custom triggers put on the Podium bus",
            # A pattern cannot be empty; every event put by this account matches.
            event_pattern=events.EventPattern(account=[account]),
            targets=[_from_bus(events_function, trigger_dlq, "podium")],
        )
        # Buses named by event triggers (``event: {pattern, bus: NAME}``): every event of
        # this account on them reaches the events function, which matches the triggers
        # naming that bus.
        self.named_bus_rules: list[events.Rule] = []
        for i, given in enumerate(trigger_event_buses):
            name = trigger_bus_name(given)
            rule = events.Rule(
                self,
                f"NamedBusRule{i}",
                event_bus=events.EventBus.from_event_bus_name(self, f"TriggerBus{i}", name),
                description=f"Event triggers on the bus {name}",
                event_pattern=events.EventPattern(account=[account]),
                # Labelled with the name: what a trigger's ``bus:`` gives, ARN or not.
                targets=[_from_bus(events_function, trigger_dlq, name)],
            )
            if name != given:  # an ARN: the rule goes on that very bus
                _refuse_bus_elsewhere(self, given)
                cfn_rule = rule.node.default_child
                assert isinstance(cfn_rule, events.CfnRule)
                cfn_rule.event_bus_name = given
            self.named_bus_rules.append(rule)
        self.s3_rule: events.Rule | None = None
        if trigger_bucket_names:
            self.s3_rule = events.Rule(
                self,
                "S3ObjectCreatedRule",
                description="S3 uploads that trigger Podium workflows",
                event_pattern=events.EventPattern(
                    source=["aws.s3"],
                    detail_type=["Object Created"],
                    detail={"bucket": {"name": list(trigger_bucket_names)}},
                ),
                targets=[to_events],
            )
        self.pattern_rules = [
            events.Rule(
                self,
                f"PatternRule{i}",
                description="Custom trigger pattern on the default bus",
                event_pattern=pattern,
                targets=[to_events],
            )
            for i, pattern in enumerate(trigger_event_patterns)
        ]
        # A missed tick is harmless (the next one sweeps the same items), so no retries
        # and no DLQ: a retried sweep would only overlap with the next one.
        self.sweep_rule = events.Rule(
            self,
            "SweepSchedule",
            description="Re-drives stuck Podium work",
            schedule=events.Schedule.rate(sweep_interval),
            targets=[targets.LambdaFunction(sweep_function, retry_attempts=0)],
        )


def _refuse_bus_elsewhere(scope: Construct, bus_arn: str) -> None:
    """A bus of another account or region: its rule would be made there (if that bus's
    policy let this account) and match only the events this account puts on it (the
    pattern's ``account``), so its own events would never start a run. Refused when the
    stack's account and region are known; a rule of that account can forward its events
    to a bus here instead."""
    stack = Stack.of(scope)
    _, _, _, region, account, _ = bus_arn.split(":", 5)
    for given, own, what in ((account, stack.account, "account"), (region, stack.region, "region")):
        if not Token.is_unresolved(own) and given != own:
            raise ValueError(
                f"trigger_event_buses: {bus_arn!r} is a bus of another {what} ({given}, the"
                f" stack's is {own}); Podium listens to buses of its own account and"
                " region: forward the events to one of them (a rule on that bus whose"
                " target is a bus here) and list that bus"
            )


def _from_bus(function: lambda_.IFunction, dlq: sqs.IQueue, bus: str) -> targets.LambdaFunction:
    """A target that tells the events function which bus the event was put on:
    ``{"podium_bus": NAME, "event": <the event>}`` (handlers/events.py unwraps it)."""
    return targets.LambdaFunction(
        function,
        dead_letter_queue=dlq,
        event=events.RuleTargetInput.from_object(
            {"podium_bus": bus, "event": events.EventField.from_path("$")}
        ),
    )
