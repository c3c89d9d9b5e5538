"""Alarms to an SNS topic, and a dashboard of runs, steps, queues and handlers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .table import INDEX_NAMES

# Powertools publishes the engine's metrics (EMF) in this namespace, with the single
# default dimension "service" = POWERTOOLS_SERVICE_NAME (the name prefix).
METRICS_NAMESPACE = "Podium"
# Counted once per top run (service/lifecycle.count_run_end): RunsTimedOut is the part
# of RunsFailed that timed out; started = succeeded + failed + stopped + still active.
RUN_METRICS = ("RunsStarted", "RunsSucceeded", "RunsFailed", "RunsTimedOut", "RunsStopped")
STEP_LATENCY_METRIC = "StepLatency"
# Counted by service/sweep.py when one run's check raises (the pass goes on).
SWEEP_CHECK_FAILED_METRIC = "SweepCheckFailed"

PERIOD = Duration.minutes(5)
T = TypeVar("T")
# An event waiting this long means advance is failing or throttled.
EVENT_QUEUE_AGE_THRESHOLD = Duration.minutes(5)


class Monitoring(Construct):
    """Alarms: messages in any DLQ, errors and throttles of each function, table
    throttles, a stale event queue, and a sweeper check that failed. All notify
    ``topic``.

    Attributes: ``topic``, ``alarms`` (list), ``dashboard`` (or None).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        service_name: str,
        functions: Mapping[str, lambda_.IFunction],
        queues: Mapping[str, sqs.IQueue],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        table: dynamodb.ITable,
        alarm_topic: sns.ITopic | None,
        alarm_email: str | None,
        alarms: bool,
        dashboard: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self._prefix = name_prefix
        self._service_name = service_name
        self.topic = alarm_topic or self._topic(alarm_email)
        self.alarms: list[cw.Alarm] = []
        if alarms:
            self._alarms(functions, queues, dead_letter_queues, table)
        self.dashboard: cw.Dashboard | None = None
        if dashboard:
            self.dashboard = self._dashboard(
                service_name, functions, queues, dead_letter_queues, table
            )

    def _topic(self, alarm_email: str | None) -> sns.Topic:
        # Not KMS-encrypted: alarm notifications carry no payload data, CloudWatch cannot
        # publish to a topic under the AWS managed SNS key, and a customer managed key
        # would cost $1/month idle. Pass alarm_topic to use a topic of your own.
        topic = sns.Topic(self, "AlarmTopic", display_name="Podium alarms", enforce_ssl=True)
        if alarm_email:
            topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        return topic

    def _alarm(
        self, construct_id: str, metric: cw.IMetric, *, threshold: float, description: str
    ) -> None:
        alarm = cw.Alarm(
            self,
            construct_id,
            alarm_name=f"{self._prefix}-{construct_id}",
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # No data means nothing ran: that is healthy, not unknown.
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        self.alarms.append(alarm)

    def _alarms(
        self,
        functions: Mapping[str, lambda_.IFunction],
        queues: Mapping[str, sqs.IQueue],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        table: dynamodb.ITable,
    ) -> None:
        for name, dlq in dead_letter_queues.items():
            self._alarm(
                f"{name}-dlq-not-empty",
                dlq.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=1,
                description=_dlq_runbook(name),
            )
        for name, function in functions.items():
            self._alarm(
                f"{name}-errors",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=1,
                description=f"The {name} handler raised errors.",
            )
            self._alarm(
                f"{name}-throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                threshold=1,
                description=f"The {name} handler was throttled (concurrency limit).",
            )
        self._alarm(
            "table-throttles",
            _throttle_events(table),
            threshold=1,
            description="DynamoDB throttled Podium's table or one of its indexes.",
        )
        self._alarm(
            "event-queue-stale",
            queues["event"].metric_approximate_age_of_oldest_message(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            threshold=EVENT_QUEUE_AGE_THRESHOLD.to_seconds(),
            description="Run events wait too long: the advance handler is failing or throttled.",
        )
        self._alarm(
            "sweep-check-failed",
            cw.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=SWEEP_CHECK_FAILED_METRIC,
                dimensions_map={"service": self._service_name},
                statistic="Sum",
                period=PERIOD,
            ),
            threshold=1,
            description="The sweeper could not check a run (or a workflow's slots, a key's"
            " permits): its log names it and why; the rest of the pass went on.",
        )

    def _dashboard(
        self,
        service_name: str,
        functions: Mapping[str, lambda_.IFunction],
        queues: Mapping[str, sqs.IQueue],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        table: dynamodb.ITable,
    ) -> cw.Dashboard:
        def podium_metric(name: str, statistic: str) -> cw.Metric:
            return cw.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"service": service_name},
                statistic=statistic,
                period=PERIOD,
            )

        dash = cw.Dashboard(self, "Dashboard", dashboard_name=f"{self._prefix}-{Aws.REGION}")
        dash.add_widgets(
            cw.GraphWidget(
                title="Runs",
                left=[podium_metric(name, "Sum") for name in RUN_METRICS],
                width=12,
            ),
            cw.GraphWidget(
                title="Step latency (ms)",
                left=[podium_metric(STEP_LATENCY_METRIC, p) for p in ("p50", "p90", "p99")],
                width=12,
            ),
        )
        dash.add_widgets(
            cw.GraphWidget(
                title="Age of oldest message (s)",
                left=_labelled(
                    lambda q: q.metric_approximate_age_of_oldest_message(statistic="Maximum"),
                    queues,
                ),
                width=8,
            ),
            cw.GraphWidget(
                title="Queue depth",
                left=_labelled(
                    lambda q: q.metric_approximate_number_of_messages_visible(statistic="Maximum"),
                    queues,
                ),
                width=8,
            ),
            cw.GraphWidget(
                title="Dead-letter queues",
                left=_labelled(
                    lambda q: q.metric_approximate_number_of_messages_visible(statistic="Maximum"),
                    dead_letter_queues,
                ),
                width=8,
            ),
        )
        dash.add_widgets(
            cw.GraphWidget(
                title="Handler errors",
                left=_labelled(lambda f: f.metric_errors(statistic="Sum"), functions),
                width=8,
            ),
            cw.GraphWidget(
                title="Handler throttles",
                left=_labelled(lambda f: f.metric_throttles(statistic="Sum"), functions),
                width=8,
            ),
            cw.GraphWidget(
                title="Handler duration p99 (ms)",
                left=_labelled(lambda f: f.metric_duration(statistic="p99"), functions),
                width=8,
            ),
        )
        dash.add_widgets(
            cw.GraphWidget(
                title="Table capacity used",
                left=[
                    table.metric_consumed_read_capacity_units(statistic="Sum"),
                    table.metric_consumed_write_capacity_units(statistic="Sum"),
                ],
                width=12,
            ),
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=12)
            if self.alarms
            else cw.TextWidget(markdown="Alarms are turned off (alarms=False).", width=12),
        )
        return dash


def _dlq_runbook(name: str) -> str:
    """What the "Dead letters" runbook (docs/operations.md) says to do with this DLQ:
    `podium dlq redrive` sends work and event dead letters back, but leaves the
    trigger DLQ's (an EventBridge event is not a message the engine's queues take)."""
    if name == "trigger":
        then = (
            "start the runs they were for by hand (podium start), then clear them"
            " (podium dlq purge --queue trigger)"
        )
    else:
        then = "send them back (podium dlq redrive)"
    return (
        f"Messages are waiting in the {name} DLQ: see them (podium dlq list), fix the"
        f" cause, {then}. docs/operations.md, Dead letters."
    )


def _throttle_events(table: dynamodb.ITable) -> cw.MathExpression:
    """The read and write throttle events of the table and of each of its indexes.

    The ``TableName`` dimension alone leaves out the indexes' events (AWS's DynamoDB
    metrics reference), yet a write whose index update is throttled fails as a whole:
    a burst of one workflow's runs (one ``gsi1`` partition) would go unseen. Not
    ``ThrottledRequests``: it needs an ``Operation`` dimension per call and counts a
    batch only when all of it was throttled. Each term is FILL'ed with 0, since a
    series with no data point (an index never throttled) would blank the whole sum."""
    terms: dict[str, cw.IMetric] = {}
    for kind in ("Read", "Write"):
        metric_name = f"{kind}ThrottleEvents"
        terms[f"table_{kind.lower()}s"] = table.metric(metric_name, period=PERIOD, statistic="Sum")
        for index in INDEX_NAMES:
            terms[f"{index}_{kind.lower()}s"] = table.metric(
                metric_name,
                dimensions_map={
                    "TableName": table.table_name,
                    "GlobalSecondaryIndexName": index,
                },
                period=PERIOD,
                statistic="Sum",
            )
    return cw.MathExpression(
        expression=" + ".join(f"FILL({term}, 0)" for term in terms),
        using_metrics=terms,
        label="Throttle events of the table and its indexes",
        period=PERIOD,
    )


def _labelled(metric_of: Callable[[T], cw.Metric], items: Mapping[str, T]) -> list[cw.IMetric]:
    """One line per item, labelled with its name (``work``, ``advance``...)."""
    return [metric_of(item).with_(label=name) for name, item in items.items()]
