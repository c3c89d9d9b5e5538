"""Metrics adapters: CloudWatch embedded metric format through Powertools, or nothing.

Names match the dashboard of the CDK Monitoring construct: RunsStarted, RunsSucceeded,
RunsFailed, RunsTimedOut, RunsStopped (Count) and StepLatency (Milliseconds: from READY
to RUNNING). docs/operations.md, Metrics, lists them all."""

from __future__ import annotations

from typing import Any


class NullMetrics:
    def count(self, name: str, value: int = 1) -> None:
        pass

    def milliseconds(self, name: str, value: float) -> None:
        pass

    def flush(self) -> None:
        pass


class RecordingMetrics(NullMetrics):
    """Keeps what was recorded: for tests and the embedded runtime's summary."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.timings: dict[str, list[float]] = {}

    def count(self, name: str, value: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + value

    def milliseconds(self, name: str, value: float) -> None:
        self.timings.setdefault(name, []).append(value)


class PowertoolsMetrics:
    """EMF lines on stdout, flushed at the end of each invocation (no API calls)."""

    def __init__(self, namespace: str, service: str) -> None:
        from aws_lambda_powertools import Metrics
        from aws_lambda_powertools.metrics import MetricUnit

        self._metrics: Any = Metrics(namespace=namespace, service=service)
        self._unit = MetricUnit
        self._pending = False  # most invocations record nothing: skip the empty flush

    def count(self, name: str, value: int = 1) -> None:
        self._metrics.add_metric(name=name, unit=self._unit.Count, value=value)
        self._pending = True

    def milliseconds(self, name: str, value: float) -> None:
        self._metrics.add_metric(name=name, unit=self._unit.Milliseconds, value=value)
        self._pending = True

    def flush(self) -> None:
        if self._pending:
            self._metrics.flush_metrics(raise_on_empty_metrics=False)
            self._pending = False
