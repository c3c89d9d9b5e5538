"""Stopping a glue_job step's run: Glue's BatchStopJobRun answers 200 and says, per job
run, which stops it refused (``Errors``), rather than raising; the answer was ignored
(adapters/jobs/glue.py), so a refused stop was taken for a done one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto.moto_api import state_manager

from podium.adapters.clock import ManualClock
from podium.core.engine.status import StepStatus
from podium.local.runtime import LocalRuntime
from podium.service.lifecycle import stop_run

from .test_aws_jobs import glue_with_nightly_etl


class _GlueRefusingStops:
    """moto's Glue (which has no BatchStopJobRun): the first stop of each run is refused
    by Glue in the answer's ``Errors`` (the service's fault, a passing one); later ones
    are accepted. Every call is recorded."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.stops: list[list[str]] = []
        self.refusal = ""  # a refusal of every stop, for good

    def batch_stop_job_run(self, JobName: str, JobRunIds: list[str]) -> dict[str, Any]:
        self.stops.append(list(JobRunIds))
        if self.refusal:
            return {
                "SuccessfulSubmissions": [],
                "Errors": [
                    {
                        "JobName": JobName,
                        "JobRunId": run_id,
                        "ErrorDetail": {"ErrorCode": self.refusal, "ErrorMessage": "no such run"},
                    }
                    for run_id in JobRunIds
                ],
            }
        if len(self.stops) == 1:
            return {
                "SuccessfulSubmissions": [],
                "Errors": [
                    {
                        "JobName": JobName,
                        "JobRunId": run_id,
                        "ErrorDetail": {
                            "ErrorCode": "InternalServiceException",
                            "ErrorMessage": "Internal service error, please retry",
                        },
                    }
                    for run_id in JobRunIds
                ],
            }
        return {
            "SuccessfulSubmissions": [{"JobName": JobName, "JobRunId": r} for r in JobRunIds],
            "Errors": [],
        }

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def rt() -> Iterator[LocalRuntime]:
    state_manager.set_transition(
        model_name="glue::job_run", transition={"progression": "manual", "times": 10**9}
    )
    try:
        with LocalRuntime(store="memory", clock=ManualClock()) as runtime:
            runtime.glue = glue_with_nightly_etl(runtime, _GlueRefusingStops)  # type: ignore[attr-defined]
            yield runtime
    finally:
        state_manager.unset_transition("glue::job_run")


def _started(rt: LocalRuntime) -> str:
    """Starts a run of one glue_job step of ``nightly_etl``; its job run is started."""
    rt.push({"name": "g", "steps": [{"id": "job", "type": "glue_job", "job_name": "nightly_etl"}]})
    run_id = rt.start_run("g").run_id
    rt.pump(wait=False)
    return run_id


def _counted(rt: LocalRuntime) -> list[str]:
    """The names of the metrics ``rt`` counts from now on."""
    counted: list[str] = []
    rt.services.metrics.count = lambda name, value=1: counted.append(name)  # type: ignore[method-assign]
    return counted


def test_a_stop_glue_refuses_in_its_answer_is_asked_again(rt: LocalRuntime) -> None:
    """A user stopped a run while its Glue job run ran; Glue answered BatchStopJobRun
    with the run in ``Errors`` (InternalServiceException, "please retry"). Podium
    ignored the answer: the step showed STOPPED, nothing was logged or counted
    (ExternalStopFailed), and the stop was never asked again, so the job run went on
    (billed) until it ended by itself. docs (External work) say a stop the service
    refuses transiently is asked again (30 s, doubling)."""
    run_id = _started(rt)
    glue: Any = rt.glue  # type: ignore[attr-defined]
    (job_run,) = glue.get_job_runs(JobName="nightly_etl")["JobRuns"]
    counted = _counted(rt)
    stop_run(rt.services, run_id, "stopped by a test")
    record = rt.store.get_step(run_id, "job")
    assert record is not None and record.status is StepStatus.STOPPED
    assert counted.count("ExternalStopFailed") == 1, counted  # a stop_work timer is set
    rt.pump()  # the stop_work timer comes due (and the attempt's poll: it stops again)
    assert glue.stops[:2] == [[job_run["Id"]], [job_run["Id"]]], glue.stops
    assert counted.count("ExternalStopFailed") == 1, counted  # the second was accepted


def test_a_stop_glue_refuses_for_good_is_logged_not_asked_again(
    rt: LocalRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    """A run Glue would not stop for good (its ``Errors`` said the run was not there
    any more) was not logged either; now it is logged, and not asked again."""
    glue: Any = rt.glue  # type: ignore[attr-defined]
    glue.stops.append(["an earlier stop"])  # past the first: no transient refusal
    glue.refusal = "EntityNotFoundException"
    run_id = _started(rt)
    counted = _counted(rt)
    with caplog.at_level("WARNING", logger="podium.jobs"):
        stop_run(rt.services, run_id, "stopped by a test")
    assert "EntityNotFoundException" in caplog.text, caplog.text
    assert "ExternalStopFailed" not in counted, counted  # no stop_work timer
