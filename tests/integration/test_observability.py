"""Metrics the dashboard reads, and the Lambda wiring of logs and metrics."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from podium import bootstrap
from podium.adapters.metrics import PowertoolsMetrics, RecordingMetrics
from podium.local.runtime import LocalRuntime


def test_runs_and_step_latency_are_counted(runtime: LocalRuntime) -> None:
    metrics = RecordingMetrics()
    runtime.services.metrics = metrics
    runtime.run(
        {
            "name": "ok",
            "steps": [
                {"id": "a", "type": "noop"},
                {"id": "b", "type": "noop", "depends_on": ["a"]},
            ],
        }
    )
    runtime.run({"name": "bad", "steps": [{"id": "a", "type": "fail"}]})
    assert metrics.counts == {"RunsStarted": 2, "RunsSucceeded": 1, "RunsFailed": 1}
    # One per attempt claimed (READY to RUNNING), the failed one too.
    assert len(metrics.timings["StepLatency"]) == 3
    assert all(t >= 0 for t in metrics.timings["StepLatency"])


def test_powertools_metrics_flush_emf_lines(capsys: pytest.CaptureFixture[str]) -> None:
    metrics = PowertoolsMetrics("Podium", "podium-test")
    metrics.count("RunsStarted")
    metrics.milliseconds("StepLatency", 12.5)
    metrics.flush()
    emf = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    directive = emf["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Podium"
    assert {m["Name"] for m in directive["Metrics"]} == {"RunsStarted", "StepLatency"}
    assert emf["RunsStarted"] == [1.0] or emf["RunsStarted"] == 1.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        metrics.flush()  # nothing recorded: nothing written, no warning


@pytest.fixture
def restore_podium_logger() -> Any:
    """The Lambda wiring reconfigures the process-wide 'podium' logger: put it back."""
    podium_logger = logging.getLogger("podium")
    saved = (list(podium_logger.handlers), podium_logger.propagate, podium_logger.level)
    yield
    podium_logger.handlers, podium_logger.propagate = saved[0], saved[1]
    podium_logger.setLevel(saved[2])


def test_lambda_wiring_reads_the_environment(restore_podium_logger: Any) -> None:
    env: dict[str, Any] = {
        "PODIUM_TABLE_NAME": "t",
        "PODIUM_WORK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/work",
        "PODIUM_EVENT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/events",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "podium-prod",
        "PODIUM_ALLOWED_FUNCTIONS": "",
    }
    logging.getLogger("podium.test_wiring")
    ctx = bootstrap.from_environment(env)
    assert isinstance(ctx.metrics, PowertoolsMetrics)
    assert logging.getLogger("podium").handlers  # JSON logs for every podium.* logger
    with pytest.raises(RuntimeError, match="set PODIUM_TABLE_NAME"):
        bootstrap.from_environment({})
