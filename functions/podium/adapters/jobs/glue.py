"""``glue_job`` on AWS Glue: StartJobRun with the attempt key as the run argument
``--podium-attempt`` (found again among the job's runs), GetJobRun, BatchStopJobRun.

StartJobRun has no idempotency token, so a StartJobRun refused (throttled;
ConcurrentRunsExceededException: the job's MaxConcurrentRuns runs are running; or
ResourceNumberLimitExceededException: the account's concurrent job runs are at their
quota) is given back only when every try botocore made of it was refused
(``StartTries``): then no run was started for the attempt, whatever GetJobRuns lists.
After a try that may have been accepted (a read timeout, a 5xx), the attempt polls for
its run, as before."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from podium.adapters.jobs.aws_errors import (
    StartTries,
    asked_failed,
    is_api_error,
    lookup_failed,
    raise_if_transient,
    start_failed,
    throttled_start,
)
from podium.core.dsl.models import GLUE_ATTEMPT_ARGUMENT
from podium.core.engine.external import (
    JobOutcome,
    Phase,
    glue_run_outcome,
    is_transient,
    run_created_ms,
    running,
)
from podium.core.engine.text_fields import as_text
from podium.core.ports import JobRequest

log = logging.getLogger("podium.jobs")

ATTEMPT_ARGUMENT = GLUE_ATTEMPT_ARGUMENT  # refused as a name of the step's own arguments
# Glue's StartedOn and Podium's clock may disagree by this much: a run that looks
# started this long before its attempt's run was created may still be the attempt's.
CLOCK_SKEW_MS = 5 * 60 * 1000
# A safety stop for a run id that bounds nothing (not a ULID): Glue keeps 90 days of
# runs, so this many pages (of 100) is past anything it lists.
MAX_RUN_PAGES = 2000
# StartJobRun's refusals besides throttling, each a limit on running runs that clears as
# runs end, so Glue started none: the job runs MaxConcurrentRuns runs already (the
# default is 1: ConcurrentRunsExceededException), or the account runs its quota of
# concurrent job runs (ResourceNumberLimitExceededException, "a resource numerical
# limit was exceeded"; 50 by default). A throttled-like refusal: given back.
START_REFUSALS = frozenset(
    {"ConcurrentRunsExceededException", "ResourceNumberLimitExceededException"}
)


class GlueJobs:
    def __init__(self, client: Any) -> None:
        self._glue = client
        self._starts = StartTries(client, "StartJobRun", START_REFUSALS)

    def start(self, request: JobRequest) -> JobOutcome:
        try:
            found = self._search(request)
        except Exception as exc:
            return lookup_failed("Glue GetJobRuns", exc)  # nothing submitted: not started
        if found is not None:
            return found  # started before: the same run, not a second one
        arguments = {k: as_text(v) for k, v in (request.rendered.get("arguments") or {}).items()}
        arguments[ATTEMPT_ARGUMENT] = request.key
        try:
            resp = self._starts.call(
                self._glue.start_job_run, JobName=request.spec.job_name, Arguments=arguments
            )
        except Exception as exc:
            if self._starts.all_refused(exc):
                # Refused on every try: no run was started. Given back (no retry spent,
                # its permits released), the attempt looks its run up and starts it
                # after a backoff, under the same key. Polled instead, it found no run
                # and spent a platform retry on a start that never happened.
                return throttled_start("Glue StartJobRun", exc)
            # A 5xx or a lost answer (maybe before a refused try: a run that was started
            # then is what makes a later try exceed MaxConcurrentRuns) may come after
            # Glue started the run: it is polled, holding its permits, and found.
            return start_failed("Glue StartJobRun", exc)
        return running(str(resp["JobRunId"]))

    def find(self, request: JobRequest) -> JobOutcome | None:
        try:
            return self._search(request)
        except Exception as exc:
            return asked_failed("Glue GetJobRuns", exc)

    def _search(self, request: JobRequest) -> JobOutcome | None:
        """The attempt's run among the job's runs (GetJobRuns lists newest first): the
        search stops at the first run older than the attempt's run (less the clock
        skew), since no older run can be the attempt's. None: never started. Raises
        what GetJobRuns raised."""
        created = run_created_ms(request.key)
        oldest = None if created is None else created - CLOCK_SKEW_MS
        for run in self._runs_newest_first(request.spec.job_name):
            if (run.get("Arguments") or {}).get(ATTEMPT_ARGUMENT) == request.key:
                return glue_run_outcome(run)
            started = _started_ms(run)
            if oldest is not None and started is not None and started < oldest:
                return None
        return None

    def _runs_newest_first(self, job_name: str) -> Iterator[dict[str, Any]]:
        token: str | None = None
        for _ in range(MAX_RUN_PAGES):
            kwargs: dict[str, Any] = {"JobName": job_name}
            if token:
                kwargs["NextToken"] = token
            resp = self._glue.get_job_runs(**kwargs)
            yield from resp.get("JobRuns") or []
            token = resp.get("NextToken")
            if not token:
                return
        log.warning("Glue job %s: more than %d pages of runs searched", job_name, MAX_RUN_PAGES)

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
        try:
            found = self._search(request)
        except Exception as exc:
            # The look-up throttled (or the service down): raised, so stop_work asks
            # again; read as "running" without a run id, it would stop nothing.
            raise_if_transient(exc)
            return  # refused for good (logged): no retry fixes it
        if found is None or found.phase is not Phase.RUNNING or not found.handle:
            return
        try:
            resp = self._glue.batch_stop_job_run(
                JobName=request.spec.job_name, JobRunIds=[found.handle]
            )
        except Exception as exc:
            raise_if_transient(exc)
            return
        _raise_if_refused(request.spec.job_name, resp.get("Errors") or [])


class StopRefused(Exception):
    """BatchStopJobRun answered, and refused to stop a run for a reason that may pass
    (the service's fault, throttled, a concurrent change): raised so stop_work asks
    again."""


def _raise_if_refused(job_name: str, errors: list[Any]) -> None:
    """BatchStopJobRun does not raise for a run it will not stop: it answers 200 and
    lists the run in ``Errors``. A transient refusal is raised (asked again, counted as
    ExternalStopFailed); any other (the run ended already, not found) is logged and
    dropped, as ``raise_if_transient`` does with a call that raised."""
    transient = []
    for error in errors:
        detail = (error.get("ErrorDetail") or {}) if isinstance(error, dict) else {}
        code = str(detail.get("ErrorCode") or "")
        said = f"{error.get('JobRunId')}: {code}: {detail.get('ErrorMessage') or ''}"
        if code and is_transient(code):
            transient.append(said)
        else:
            log.warning("stop of Glue job %s run refused, not retried: %s", job_name, said)
    if transient:
        raise StopRefused(f"Glue BatchStopJobRun of {job_name}: " + "; ".join(transient))


def _started_ms(run: dict[str, Any]) -> int | None:
    """A run's StartedOn (botocore gives a datetime), in epoch ms."""
    started = run.get("StartedOn")
    if isinstance(started, datetime):
        return int(started.timestamp() * 1000)
    return None
