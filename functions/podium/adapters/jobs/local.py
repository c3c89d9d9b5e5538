"""Local stand-ins of ``ecs_task``, ``batch_job``, ``glue_job`` and ``sfn_execution`` (the
embedded runtime): the work is a Python callable or a local command, named in
``podium.toml`` (local/stand_ins.py).

It runs inside the attempt's start, as a local lambda does (so with several workers,
tasks run in parallel on worker threads), known as running under the attempt key until
it ends (a look at the attempt meanwhile polls on rather than start it again), and its
outcome follows the service's rules: exit code 0 succeeds, another code is a user
error. A command runs in a process group of its own: one that outlives the step's
``timeout`` is killed with everything it started (Podium.Timeout), and what it printed
is kept. The callable gets the step's rendered request (``command``, ``environment``, a
Glue job's ``arguments``, an execution's ``input``) and the attempt, and may return an
exit code or a JSON value (kept as ``result`` in the output; a value with no JSON form,
NaN too, fails with Podium.OutputError, as a lambda's result does); for
``sfn_execution`` the returned value, whatever its type (a number too), is the step's
output, as an execution's output is. An exception is exit code 1; ``sys.exit`` is
Python's exit status (none: 0; a message: 1, with the message). A command's output is
read as UTF-8 (a byte that is not UTF-8 becomes U+FFFD).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from podium.core.engine.external import JobOutcome, Phase, running
from podium.core.engine.outputs import OUTPUT_ERROR, output_problem
from podium.core.engine.step_error import TIMEOUT, USER_ERROR, StepError
from podium.core.engine.text_fields import as_text
from podium.core.functions import is_python_ref
from podium.core.ports import JobRequest

LOG_TAIL_CHARS = 4000
# step type -> (podium.toml table, the spec field naming the work, the output's id field)
_KINDS: dict[str, tuple[str, str, str]] = {
    "ecs_task": ("ecs_tasks", "task_definition", "task_arn"),
    "batch_job": ("batch_jobs", "job_definition", "job_id"),
    "glue_job": ("glue_jobs", "job_name", "job_run_id"),
    "sfn_execution": ("state_machines", "state_machine", "execution_arn"),
}
_TABLES = {kind: table for kind, (table, _, _) in _KINDS.items()}
LOCAL_KINDS = tuple(_KINDS)


def definition_name(kind: str, spec: Any) -> str:
    """The family of an ECS task definition, the name of a Batch job definition, a Glue
    job's name, a state machine's name (an ARN and a revision are cut off)."""
    raw = str(getattr(spec, _KINDS[kind][1]))
    if kind == "sfn_execution":  # arn:aws:states:region:account:stateMachine:NAME
        return raw.rsplit(":", 1)[-1]
    name = raw.rsplit("/", 1)[-1]
    return name.split(":", 1)[0]


class LocalJobs:
    def __init__(
        self, kind: str, targets: dict[str, Any], resolve: Any, capture: Any = None
    ) -> None:
        self.kind = kind
        self._targets = targets  # name -> target (shared: more podium.toml files add)
        self._resolve = resolve  # "module:function" -> callable (the local runner's)
        # Keeps what the work prints in the attempt's log (local/capture.py); None:
        # prints go to this process's output.
        self._capture = capture
        self._results: dict[str, JobOutcome] = {}
        self._lock = threading.Lock()

    def start(self, request: JobRequest) -> JobOutcome:
        found = self.find(request)
        if found is not None:
            return found
        name = definition_name(self.kind, request.spec)
        target = self._targets.get(request.spec.id, self._targets.get(name))
        if target is None:
            return JobOutcome(Phase.FAILED, error=self._unmapped(request.spec.id, name))
        handle = f"local/{request.key}"
        if isinstance(target, str) or (isinstance(target, dict) and "function" in target):
            ref = target if isinstance(target, str) else str(target["function"])
            return self._running(request, handle, lambda: self._call(ref, request, handle))
        command = target.get("command") or request.rendered.get("command")
        if not command:
            return JobOutcome(
                Phase.FAILED,
                error=StepError.of(
                    "Podium.ConfigError",
                    f"step '{request.spec.id}' has no command to run locally: give"
                    f" command in the step, or in podium.toml [{_TABLES[self.kind]}]",
                    retryable=False,
                ),
            )
        return self._running(request, handle, lambda: self._run(list(command), request, handle))

    def _running(
        self, request: JobRequest, handle: str, work: Callable[[], JobOutcome]
    ) -> JobOutcome:
        """Run the work, known as running under its key meanwhile: a job may outlive
        its claim message's visibility timeout (16 minutes), and the redelivered claim
        then looks for it (``find``). Found running, the attempt polls on; not found
        (as a job that never started), it would fail and its retry run the work a second
        time beside this one."""
        with self._lock:
            found = self._results.get(request.key)
            if found is not None:  # started meanwhile by another worker: the same work
                return found
            self._results[request.key] = running(handle)
        outcome: JobOutcome | None = None
        try:
            outcome = work()
        finally:
            with self._lock:
                if outcome is None:  # interrupted (Ctrl-C): not running, and no result
                    self._results.pop(request.key, None)
                else:
                    self._results[request.key] = outcome
        return outcome

    def find(self, request: JobRequest) -> JobOutcome | None:
        with self._lock:
            return self._results.get(request.key)

    def complete(self, request: JobRequest, outcome: JobOutcome) -> JobOutcome:
        return outcome

    def stop(self, request: JobRequest, reason: str) -> None:
        return None  # the work ran inside its start: nothing is left running

    # ------------------------------------------------------------------------------
    def _unmapped(self, step: str, name: str) -> StepError:
        table = _TABLES[self.kind]
        return StepError.of(
            "Podium.ConfigError",
            f"{self.kind} step '{step}' ({name}) has no local stand-in: add to podium.toml"
            f' [{table}] {name} = "module:function", or {{ command = ["..."] }}, or {{}}'
            " to run the step's own command",
            retryable=False,
        )

    def _id_field(self) -> str:
        return _KINDS[self.kind][2]

    def _ended(self, handle: str, code: int, extra: dict[str, Any], detail: str) -> JobOutcome:
        output = {self._id_field(): handle, "exit_code": code, **extra}
        if code == 0 and self.kind == "sfn_execution":
            # An execution's output is the step's output (adapters/jobs/sfn.py).
            return JobOutcome(Phase.SUCCEEDED, handle, extra.get("result"))
        if code == 0:
            return JobOutcome(Phase.SUCCEEDED, handle, output)
        message = f"exited with code {code}" + (f": {detail}" if detail else "")
        error = StepError.of(USER_ERROR, message, details={"exit_code": code})
        return JobOutcome(Phase.FAILED, handle, output, error)

    def _call(self, ref: str, request: JobRequest, handle: str) -> JobOutcome:
        if not is_python_ref(ref):
            return JobOutcome(Phase.FAILED, error=self._unmapped(request.spec.id, ref))
        try:
            fn = self._resolve(ref)
        except Exception as exc:
            error = StepError.of(
                "Podium.FunctionNotFound", f"cannot load {ref}: {exc}", retryable=False
            )
            return JobOutcome(Phase.FAILED, error=error)
        event = {**request.rendered, "step": request.spec.id, "idempotency_key": request.key}
        try:
            if self._capture is not None:
                result = self._capture.run(request.key, lambda: fn(event))
            else:
                result = fn(event)
        except SystemExit as exc:
            code, detail = _exit_status(exc.code)
            return self._ended(handle, code, {}, detail)
        except Exception as exc:
            return self._ended(handle, 1, {}, f"{type(exc).__name__}: {exc}")
        # An int is an exit code; an execution's output may be a number.
        is_code = isinstance(result, int) and not isinstance(result, bool)
        if is_code and self.kind != "sfn_execution":
            return self._ended(handle, result, {}, "")
        return self._checked(handle, result)

    def _checked(self, handle: str, result: Any) -> JobOutcome:
        """The callable's result, checked as a lambda's is (adapters/runners.
        checked_output), in the form it is stored (an execution's as the whole output):
        a value with no JSON form (a datetime) crashed the worker on every store, and
        NaN was kept."""
        sfn = self.kind == "sfn_execution"
        problem, data = output_problem(
            result if sfn else {"result": result}, "the callable's result"
        )
        if problem is not None:
            error = StepError.of(OUTPUT_ERROR, problem, retryable=False)
            return JobOutcome(Phase.FAILED, handle, {self._id_field(): handle}, error)
        stored = json.loads(data)
        return self._ended(handle, 0, {"result": stored if sfn else stored["result"]}, "")

    def _run(self, command: list[str], request: JobRequest, handle: str) -> JobOutcome:
        rendered_environment = request.rendered.get("environment") or {}
        environment = {k: as_text(v) for k, v in rendered_environment.items()}
        timeout = float(request.spec.timeout) if request.spec.timeout is not None else None
        try:
            # Its own process group: what it starts (a shell's children, a wrapper's
            # python) is killed with it, as a container's processes end with it.
            proc = subprocess.Popen(
                [as_text(c) for c in command],
                env={**os.environ, **environment},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                # Not strict: a byte that is not UTF-8 (a binary progress bar, a Latin-1
                # file name) raised out of the start after the command had run, and the
                # redelivered claim ran it again.
                encoding="utf-8",
                errors="replace",
                start_new_session=True,
            )
        except OSError as exc:
            return self._ended(handle, 127, {}, f"cannot run {command[0]}: {exc.strerror}")
        timed_out = False
        try:
            try:
                stdout, stderr = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc)
                stdout, stderr = _rest_of_output(proc)
        finally:
            if proc.returncode is None:  # interrupted (Ctrl-C): not left running
                _kill_group(proc)
                proc.wait()
        self._echo(request, stdout, stderr)
        logs = (stdout + stderr)[-LOG_TAIL_CHARS:]
        if timed_out:
            error = StepError.of(
                TIMEOUT, f"the local command ran longer than the step's timeout of {timeout:g} s"
            )
            return JobOutcome(Phase.FAILED, handle, {self._id_field(): handle, "logs": logs}, error)
        last_line = stderr.strip().splitlines()[-1] if stderr.strip() else ""
        return self._ended(handle, proc.returncode, {"logs": logs}, last_line)

    def _echo(self, request: JobRequest, stdout: str, stderr: str) -> None:
        if self._capture is None:
            return

        def echo() -> None:  # the whole output goes to the attempt's log
            sys.stdout.write(stdout)
            sys.stderr.write(stderr)

        self._capture.run(request.key, echo)


def _exit_status(code: object) -> tuple[int, str]:
    """``sys.exit(code)`` as Python's own exit: None is 0, an int itself, anything else
    (a message) 1, the message printed, so kept as the error's detail."""
    if code is None:
        return 0, ""
    if isinstance(code, int):
        return int(code), ""
    return 1, str(code)


# How long the output of a killed command is read for: a process that left its group
# (setsid) may hold the pipes open.
KILLED_OUTPUT_SECONDS = 5.0


def _kill_group(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the command's process group (its session: start_new_session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _rest_of_output(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """What a killed command printed before it was killed."""
    try:
        stdout, stderr = proc.communicate(timeout=KILLED_OUTPUT_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()
        return "", ""
    return stdout or "", stderr or ""
