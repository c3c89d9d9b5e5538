"""``glue_job`` on AWS Glue: StartJobRun with the attempt key as the run argument
``--podium-attempt`` (found again among the job's runs), GetJobRun, BatchStopJobRun."""

from __future__ import annotations

from typing import Any

from podium.adapters.jobs.aws_errors import code_of, is_api_error, raise_if_transient
from podium.core.engine.external import JobOutcome, Phase, api_error, glue_run_outcome, running
from podium.core.ports import JobRequest

ATTEMPT_ARGUMENT = "--podium-attempt"
MAX_RUN_PAGES = 5  # GetJobRuns pages searched for a lost start (newest first)


class GlueJobs:
    def __init__(self, client: Any) -> None:
        self._glue = client

    def start(self, request: JobRequest) -> JobOutcome:
        found = self.find(request)
        if found is not None:
            return found
        arguments = {k: str(v) for k, v in (request.rendered.get("arguments") or {}).items()}
        arguments[ATTEMPT_ARGUMENT] = request.key
        try:
            resp = self._glue.start_job_run(JobName=request.spec.job_name, Arguments=arguments)
        except Exception as exc:
            if not is_api_error(exc):
                raise
            return JobOutcome(Phase.FAILED, error=api_error("Glue StartJobRun", *code_of(exc)))
        return running(str(resp["JobRunId"]))

    def find(self, request: JobRequest) -> JobOutcome | None:
        try:
            token: str | None = None
            for _ in range(MAX_RUN_PAGES):
                kwargs: dict[str, Any] = {"JobName": request.spec.job_name}
                if token:
                    kwargs["NextToken"] = token
                resp = self._glue.get_job_runs(**kwargs)
                for run in resp.get("JobRuns") or []:
                    if (run.get("Arguments") or {}).get(ATTEMPT_ARGUMENT) == request.key:
                        return glue_run_outcome(run)
                token = resp.get("NextToken")
                if not token:
                    return None
        except Exception as exc:
            if not is_api_error(exc):
                raise
            error = api_error("Glue GetJobRuns", *code_of(exc))
            return running() if error.retryable else JobOutcome(Phase.FAILED, error=error)
        return running()  # beyond the pages searched: assume it runs (the timeout bounds it)

    def key_of_run(self, job_name: str, run_id: str) -> str | None:
        """The attempt that started a run (its state-change event names only the run)."""
        try:
            run = self._glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        except Exception as exc:
            if not is_api_error(exc):
                raise
            return None
        key = (run.get("Arguments") or {}).get(ATTEMPT_ARGUMENT)
        return str(key) if key else None

    def complete(self, request: JobRequest, outcome: JobOutcome) -> JobOutcome:
        return outcome

    def stop(self, request: JobRequest, reason: str) -> None:
        found = self.find(request)
        if found is None or found.phase is not Phase.RUNNING or not found.handle:
            return
        try:
            self._glue.batch_stop_job_run(JobName=request.spec.job_name, JobRunIds=[found.handle])
        except Exception as exc:
            raise_if_transient(exc)
