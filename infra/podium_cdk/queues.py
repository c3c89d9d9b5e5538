"""SQS queues that carry the engine's messages, each with a dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# After this many failed receives a message is poison: park it in the DLQ, alarm, and
# let an operator redrive it once the cause is fixed.
MAX_RECEIVE_COUNT = 5
# AWS recommends a queue visibility timeout of six times the timeout of the function
# an event source mapping feeds, so retries of a throttled batch do not redeliver it.
VISIBILITY_FACTOR = 6
MAX_VISIBILITY = Duration.hours(12)
DLQ_RETENTION = Duration.days(14)  # the SQS maximum: time to notice and redrive


def visibility_for(function_timeout: Duration) -> Duration:
    seconds = min(function_timeout.to_seconds() * VISIBILITY_FACTOR, MAX_VISIBILITY.to_seconds())
    return Duration.seconds(seconds)


def _queue(scope: Construct, construct_id: str, **kwargs: object) -> sqs.Queue:
    # SSE-SQS instead of KMS: no key cost, and the Scheduler and EventBridge can send to
    # the queues without extra key policies.
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        **kwargs,  # type: ignore[arg-type]
    )


def _dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    return _queue(scope, construct_id, retention_period=DLQ_RETENTION)


class Queues(Construct):
    """The work and event queues with their DLQs, and a DLQ for failed triggers.

    Attributes: ``work_queue``, ``work_dlq``, ``event_queue``, ``event_dlq``,
    ``trigger_dlq``, and ``dead_letter_queues`` (all three DLQs by name).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        work_timeout: Duration,
        advance_timeout: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        self.work_dlq = _dead_letter_queue(self, "WorkDlq")
        self.work_queue = _queue(
            self,
            "WorkQueue",
            visibility_timeout=visibility_for(work_timeout),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.work_dlq, max_receive_count=MAX_RECEIVE_COUNT
            ),
        )
        self.event_dlq = _dead_letter_queue(self, "EventDlq")
        self.event_queue = _queue(
            self,
            "EventQueue",
            visibility_timeout=visibility_for(advance_timeout),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.event_dlq, max_receive_count=MAX_RECEIVE_COUNT
            ),
        )
        # EventBridge deliveries the events function could not take (rule target DLQ
        # and the function's own async failures), so no trigger is silently lost.
        self.trigger_dlq = _dead_letter_queue(self, "TriggerDlq")
        self.dead_letter_queues: dict[str, sqs.Queue] = {
            "work": self.work_dlq,
            "event": self.event_dlq,
            "trigger": self.trigger_dlq,
        }
