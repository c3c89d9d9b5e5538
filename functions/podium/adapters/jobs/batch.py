"""``batch_job`` on AWS Batch: SubmitJob named and tagged by the attempt key (found again
by ListJobs on its queue), DescribeJobs, TerminateJob.

SubmitJob has no idempotency token (the same name twice is two jobs), so a throttled
SubmitJob is given back only when every try botocore made of it was throttled
(``StartTries``): then no try was accepted and the attempt has no job, whatever ListJobs
lists. After a try that may have been accepted (a read timeout, a 5xx), the attempt
polls for the job by its name, as before."""

from __future__ import annotations

from typing import Any

from podium.adapters.jobs.aws_errors import (
    StartTries,
    asked_failed,
    lookup_failed,
    raise_if_transient,
    start_failed,
    throttled_start,
)
from podium.core.engine.external import (
    BATCH_ATTEMPT_PARAMETER,
    BATCH_ATTEMPT_TAG,
    BATCH_MAX_TAG_VALUE,
    JobOutcome,
    Phase,
    batch_attempt_key,
    batch_job_outcome,
    running,
    safe_name,
)
from podium.core.engine.text_fields import as_text
from podium.core.ports import JobRequest


def job_name(key: str) -> str:
    return safe_name(key, 128)


class BatchJobs:
    def __init__(self, client: Any) -> None:
        self._batch = client
        self._submits = StartTries(client, "SubmitJob")

    def start(self, request: JobRequest) -> JobOutcome:
        try:
            ids = self._listed(request)
        except Exception as exc:
            return lookup_failed("Batch ListJobs", exc)  # nothing submitted: not started
        if ids:
            found = self._found(request, ids)
            if found is not None:
                return found  # started before: the same job, not a second one
        spec, rendered = request.spec, request.rendered
        overrides: dict[str, Any] = {}
        if rendered.get("command") is not None:
            overrides["command"] = [as_text(c) for c in rendered["command"]]
        if rendered.get("environment"):
            overrides["environment"] = [
                {"name": k, "value": as_text(v)} for k, v in rendered["environment"].items()
            ]
        parameters = {k: as_text(v) for k, v in (rendered.get("parameters") or {}).items()}
        parameters[BATCH_ATTEMPT_PARAMETER] = request.key
        kwargs: dict[str, Any] = {
            "jobName": job_name(request.key),
            "jobQueue": spec.job_queue,
            "jobDefinition": spec.job_definition,
            "parameters": parameters,
            "tags": {BATCH_ATTEMPT_TAG: request.key[:BATCH_MAX_TAG_VALUE]},
        }
        if overrides:
            kwargs["containerOverrides"] = overrides
        try:
            resp = self._submits.call(self._batch.submit_job, **kwargs)
        except Exception as exc:
            if self._submits.all_refused(exc):
                # Throttled on every try: no job was submitted. Given back (no retry
                # spent, its permits released), the attempt looks up and submits again
                # after a backoff, under the same name. Polled instead, it found no job
                # and spent a platform retry on a start that never happened.
                return throttled_start("Batch SubmitJob", exc)
            # A 5xx or a lost answer (maybe after a throttled try) may come after Batch
            # took the job: it is polled, holding its permits, and found by its name.
            return start_failed("Batch SubmitJob", exc)
        return running(str(resp["jobId"]))

    def find(self, request: JobRequest) -> JobOutcome | None:
        try:
            ids = self._listed(request)
        except Exception as exc:
            return asked_failed("Batch ListJobs", exc)
        return self._found(request, ids) if ids else None

    def _listed(self, request: JobRequest) -> list[str]:
        """The ids of the jobs named for the attempt on its queue (raises what ListJobs
        raised)."""
        listed = (
            self._batch.list_jobs(
                jobQueue=request.spec.job_queue,
                filters=[{"name": "JOB_NAME", "values": [job_name(request.key)]}],
            ).get("jobSummaryList")
            or []
        )
        return [str(j["jobId"]) for j in listed]

    def _found(self, request: JobRequest, ids: list[str]) -> JobOutcome | None:
        try:
            return self._described(request, ids)
        except Exception as exc:
            return asked_failed("Batch DescribeJobs", exc)

    def _described(self, request: JobRequest, ids: list[str]) -> JobOutcome | None:
        """The attempt's job among ``ids`` (None: none of them is the attempt's); raises
        what DescribeJobs raised."""
        jobs = self._batch.describe_jobs(jobs=ids).get("jobs") or []
        mine = [j for j in jobs if batch_attempt_key(j) in (None, request.key)]
        if not mine:
            return None
        return batch_job_outcome(mine[0])

    def complete(self, request: JobRequest, outcome: JobOutcome) -> JobOutcome:
        stream = outcome.output.get("log_stream")
        if not stream:
            return outcome
        region = self._batch.meta.region_name
        link = (
            f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
            f"#logsV2:log-groups/log-group/$252Faws$252Fbatch$252Fjob/log-events/"
            + stream.replace("/", "$252F")
        )
        return JobOutcome(
            outcome.phase, outcome.handle, {**outcome.output, "logs": link}, outcome.error
        )

    def stop(self, request: JobRequest, reason: str) -> None:
        try:
            ids = self._listed(request)
            found = self._described(request, ids) if ids else None
        except Exception as exc:
            # The look-up throttled (or the service down): raised, so stop_work asks
            # again; read as "running" without a job id, it would stop nothing.
            raise_if_transient(exc)
            return  # refused for good (logged): no retry fixes it
        if found is None or found.phase is not Phase.RUNNING or not found.handle:
            return
        try:
            self._batch.terminate_job(
                jobId=found.handle, reason=f"terminated by podium: {reason}"[:255]
            )
        except Exception as exc:
            raise_if_transient(exc)
