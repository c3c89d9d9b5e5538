"""Pydantic models of a workflow definition (the YAML/JSON a user pushes).

Models are frozen and forbid unknown fields, so a typo is an error, not a silent no-op.
Graph-level checks (unknown dependencies, cycles) live in ``graph_checks``; these models
only check the shape of each piece.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from fractions import Fraction
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from podium.core.dsl.conditions import condition_problem
from podium.core.dsl.errors import did_you_mean
from podium.core.dsl.numbers import NOT_BOOLEAN, not_boolean, number_text, whole_number
from podium.core.dsl.signals import SignalEmit, SignalWait, check_emits, check_waits
from podium.core.dsl.stored import at_push
from podium.core.dsl.triggers import Trigger, check_triggers, trigger_ids
from podium.core.engine.durations import parse_duration
from podium.core.engine.step_error import ANY_ERROR, USER_ERROR

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,79}$"
WORKFLOW_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,79}$"
CONCURRENCY_KEY = r"^[A-Za-z0-9_.:-]{1,80}$"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ParamType(str, Enum):
    STRING = "string"
    INT = "int"
    DOUBLE = "double"
    BOOL = "bool"
    LIST = "list"
    MAP = "map"


class ParamMode(str, Enum):
    MUTABLE = "mutable"  # a run may override it (the default)
    CONSTANT = "constant"  # always the definition's value: a run-time override is an error


class ParamValidation(_Model):
    """``validate: {expr: "value > 0", message: "..."}``: checked when a run starts."""

    expr: Annotated[str, Field(min_length=1)]
    message: str = ""

    @field_validator("expr")
    @classmethod
    def _compiles(cls, v: str, info: ValidationInfo) -> str:
        from podium.core.expr import ExpressionError, compile_expression

        shape = condition_problem(v) if at_push(info) else None
        if shape is not None:
            raise ValueError(f"validate: {shape}")

        try:
            compiled = compile_expression(v)
        except ExpressionError as exc:
            raise ValueError(f"validate: {exc}") from None
        bad = sorted(r for r in compiled.references if r.split(".")[0] not in ("value", "params"))
        if bad:
            raise ValueError(f"validate reads '{bad[0]}'; it may read value and params only")
        return v


class ParamSpec(_Model):
    """A typed workflow parameter. A param without a default must be given at run time,
    unless it says ``required: false``: then it is null when a run does not give it.

    ``default`` is a literal today; the expression language (``${...}``) plugs in here:
    a string default will be compiled as a template before type checking.
    """

    type: ParamType
    default: Any = None
    description: str = ""
    # None (not said): required exactly when there is no default.
    required: bool | None = Field(
        default=None,
        description="false with no default: the param is null when a run does not give it;"
        " true: a run must give it (no default allowed).",
    )
    mode: ParamMode = ParamMode.MUTABLE
    validate_: ParamValidation | None = Field(
        default=None,
        alias="validate",
        description="An expression over `value` that must hold, and the message if not.",
    )

    @field_validator("validate_", mode="before")
    @classmethod
    def _validation(cls, v: Any) -> Any:
        return {"expr": v} if isinstance(v, str) else v

    @model_validator(mode="after")
    def _required_or_default(self, info: ValidationInfo) -> ParamSpec:
        # Both once passed silently and the default won. A push rule: a stored version
        # saying both still runs with its default (core.dsl.stored).
        if self.required and self.default is not None and at_push(info):
            raise ValueError(
                "a required param takes no default: drop 'default' (every run must give"
                " it) or drop 'required'"
            )
        return self

    @property
    def optional(self) -> bool:
        """No default, and ``required: false`` written out: null when not given."""
        return self.default is None and self.required is False


class JoinRule(str, Enum):
    """When a step runs, once every predecessor has ended (docs/workflow-language.md)."""

    ONE_SUCCESS = "one_success"  # >= 1 incoming edge taken and no predecessor failed
    ALL_SUCCESS = "all_success"  # every incoming edge taken
    ALL_DONE = "all_done"  # in any case (cleanup)
    ONE_FAILED = "one_failed"  # >= 1 predecessor failed (an error handler)


class Edge(_Model):
    """A dependency with a condition: taken when ``step`` succeeded and ``when`` holds."""

    step: str
    when: Annotated[str, Field(min_length=1)] | None = None


class Concurrency(_Model):
    """A semaphore shared by every workflow and run that names the key."""

    key: Annotated[str, Field(pattern=CONCURRENCY_KEY)]
    limit: Annotated[int, Field(ge=1, le=10_000), NOT_BOOLEAN]

    @field_validator("key")
    @classmethod
    def _not_a_run_key(cls, v: str, info: ValidationInfo) -> str:
        # run:<id> is each run's own key (max_parallel_steps): a step naming one would
        # share that run's limit, or set another.
        if v.startswith("run:") and at_push(info):
            raise ValueError(
                f"'{v[:80]}': keys starting with 'run:' are Podium's own (a run's"
                " max_parallel_steps); name yours otherwise"
            )
        return v


def _not_a_boolean(value: Any) -> Any:
    """A YAML ``yes``/``true`` arrives as a boolean, which the number type would take as
    1 second: refused before it is read as one (parse_duration says why)."""
    if isinstance(value, bool):
        parse_duration(value)  # raises its message
    return value


_not_a_boolean.refuses_booleans = True  # type: ignore[attr-defined]  # (core.dsl.numbers)


Seconds = Annotated[
    float | int | str,
    BeforeValidator(_not_a_boolean),
    Field(description="Seconds, or '90s', '15m', '2h30m'."),
]
# 0% to 100%, decimals allowed ("2.5%", "100.0%"). Anchored for pydantic's pattern (a
# search); Python reads it with fullmatch, as "$" would take "10%\n".
PERCENTAGE = r"^(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?)%$"


def _count_or_percentage(value: Any) -> Any:
    """One message for a bad ``tolerated_failures`` (the union would give two: pydantic's
    integer parse and a pattern). Booleans are left to ``not_boolean``. A count written
    as a string ("3") is the count, as every whole-number field reads one."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and not re.fullmatch(PERCENTAGE, value):
        count = whole_number(value)
        value = value if count is None else count
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and re.fullmatch(PERCENTAGE, value):
        return value
    raise ValueError(
        f"{str(value)[:40]!r} is not a count or a percentage: write a whole number of"
        " failures (3) or a percentage from 0% to 100% ('10%', '2.5%')"
    )


def _tolerates_some(value: int | str) -> bool:
    """Whether ``tolerated_failures`` tolerates any failure: 0 and "0%" (or "0.0%")
    tolerate none, as every policy but continue does, so either is allowed with any."""
    if isinstance(value, str):
        return Fraction(value.rstrip("%")) != 0
    return value != 0


MAX_TIMEOUT_SECONDS = 120 * 86_400  # as Maestro: 120 days
HeartbeatSeconds = Annotated[int, Field(ge=1, le=MAX_TIMEOUT_SECONDS), NOT_BOOLEAN]
# A waiting step (its work goes on elsewhere: a sleep, later ECS, loops, callbacks) times
# out after 10 days unless it says otherwise (Maestro's default); a synchronous one is
# bounded by its runner (a Lambda's own limit).
DEFAULT_WAIT_TIMEOUT_SECONDS = 10 * 86_400


def _seconds(value: Any, low: float, high: float, what: str) -> float:
    seconds = parse_duration(value)
    if not low <= seconds <= high:
        # Whole numbers and the limit in days (or hours, minutes), never 1.0368e+07,
        # which :g made of 120 days; the user's value as written (200d) with its seconds.
        seen = number_text(seconds)
        given = f"{value} ({seen} s)" if isinstance(value, str) else seen
        unit = _largest_unit(high)
        words = f" (at most {unit})" if unit else ""
        raise ValueError(
            f"{what} must be between {number_text(low)} and {number_text(high)}"
            f" seconds{words}, not {given}"
        )
    return seconds


_UNITS = ((86_400, "day"), (3_600, "hour"), (60, "minute"))


def _largest_unit(seconds: float) -> str:
    """``10368000`` as "120 days"; "" when it is no whole count of a day, hour or
    minute (then the seconds say it)."""
    for size, unit in _UNITS:
        count = seconds / size
        if count >= 1 and count.is_integer():
            return f"{int(count):,} {unit}{'' if count == 1 else 's'}"
    return ""


class Jitter(str, Enum):
    FULL = "full"  # a delay drawn between 0 and the computed delay
    NONE = "none"


class Retrier(_Model):
    """One entry of a step's ``retry`` list: the first entry whose ``errors`` name the
    error (and whose ``when`` holds) decides; each entry has its own count."""

    errors: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]],
        Field(
            min_length=1,
            description="Error types this entry retries: an exception class name, or"
            " Podium.UserError / Podium.PlatformError / Podium.Timeout / Podium.ALL.",
        ),
    ] = Field(default_factory=lambda: [ANY_ERROR])
    max_attempts: Annotated[int, Field(ge=0, le=99), NOT_BOOLEAN] = 3
    interval: Seconds = 1
    backoff_rate: Annotated[
        float, Field(ge=1.0, le=10.0), not_boolean("backoff_rate", "a number from 1 to 10")
    ] = 2.0
    max_delay: Seconds | None = None
    jitter: Jitter = Jitter.NONE
    when: Annotated[str, Field(min_length=1)] | None = Field(
        default=None, description="An expression over `error` (type, message, attempt)."
    )

    @field_validator("interval", "max_delay")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        return None if v is None else _seconds(v, 0, 86_400, "a retry delay")

    @field_validator("when")
    @classmethod
    def _condition(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is not None:
            from podium.core.engine.retry import check_condition  # compiles it once

            shape = condition_problem(v) if at_push(info) else None
            if shape is not None:
                raise ValueError(f"retry condition: {shape}")
            check_condition(v, fields_checked=at_push(info))
        return v


class FailureMode(str, Enum):
    """What a step's failure (after its retries) does to the rest of the run."""

    FAIL_AFTER_RUNNING = "fail_after_running"  # no new step starts; running ones finish
    FAIL_IMMEDIATELY = "fail_immediately"  # running steps are stopped, the run fails now
    IGNORE_FAILURE = "ignore_failure"  # FAILED_IGNORED: counts as success downstream


class StepBase(_Model):
    id: Annotated[str, Field(pattern=IDENTIFIER, description="Unique step id (identifier).")]
    description: str = ""
    depends_on: list[str | Edge] = Field(
        default_factory=list,
        description="Steps that must end first: an id, or {step: id, when: expression}.",
    )
    join: JoinRule = JoinRule.ONE_SUCCESS
    concurrency: Concurrency | None = Field(
        default=None, description="A permit of this key is needed to run (WAITING_FOR_PERMITS)."
    )
    recover: bool = Field(
        default=False,
        description="An error handler (join one_failed/all_done) whose success means the"
        " failures before it do not fail the run.",
    )
    retries: Annotated[int, Field(ge=0, le=99), NOT_BOOLEAN] | None = Field(
        default=None,
        description="Shorthand: retry errors of the step's code N times, retry_delay_seconds"
        " apart (platform errors keep their own budget).",
    )
    retry_delay_seconds: Annotated[int, Field(ge=0, le=86_400), NOT_BOOLEAN] | None = None
    retry: list[Retrier] = Field(
        default_factory=list, description="Retry policy: ordered retriers (first match wins)."
    )
    timeout: Seconds | None = Field(
        default=None, description="Seconds (or '2h30m') an attempt may run before TIMED_OUT."
    )
    failure_mode: FailureMode = FailureMode.FAIL_AFTER_RUNNING
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Step params: values or ${...} templates, rendered when the step starts,"
        " readable downstream as steps.<id>.params.<name>. A param declared"
        " {type: ..., value: ...} is type-checked once rendered.",
    )
    wait_for: list[SignalWait] = Field(
        default_factory=list,
        description="Signals the step waits for (WAITING_FOR_SIGNALS) before it starts;"
        " the matched ones are readable as signal.<name>.params / .payload.",
    )
    emit: list[SignalEmit] = Field(
        default_factory=list, description="Signals sent once, when the step has succeeded."
    )

    @field_validator("wait_for")
    @classmethod
    def _waits(cls, v: list[SignalWait]) -> list[SignalWait]:
        return check_waits(v)

    @field_validator("emit")
    @classmethod
    def _emits(cls, v: list[SignalEmit]) -> list[SignalEmit]:
        return check_emits(v)

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: Any) -> Any:
        return None if v is None else _seconds(v, 1, MAX_TIMEOUT_SECONDS, "timeout")

    @property
    def param_values(self) -> dict[str, Any]:
        """The step params to render: a typed declaration contributes its ``value``."""
        return {k: v["value"] if _typed(v) else v for k, v in self.params.items()}

    @property
    def param_types(self) -> dict[str, ParamSpec]:
        """The declared types of step params given as ``{type: ..., value: ...}``."""
        return {k: ParamSpec(type=v["type"]) for k, v in self.params.items() if _typed(v)}

    @model_validator(mode="after")
    def _one_retry_form(self, info: ValidationInfo) -> StepBase:
        if self.retry and (self.retries is not None or self.retry_delay_seconds is not None):
            raise ValueError(
                "use either 'retry' (a list of retriers) or the shorthand 'retries' /"
                " 'retry_delay_seconds', not both"
            )
        if self.retry_delay_seconds is not None and self.retries is None and at_push(info):
            # Alone it did nothing (no retry is made without 'retries').
            raise ValueError("retry_delay_seconds needs 'retries: N' beside it (how many retries)")
        if self.retry_delay_seconds is not None and self.retries == 0 and at_push(info):
            # Nor with retries: 0: no retry is made, so nothing waits the delay.
            raise ValueError(
                "retry_delay_seconds needs 'retries: N' beside it, N at least 1 (with"
                " retries: 0 no retry is made: the delay would do nothing)"
            )
        return self

    @property
    def retriers(self) -> tuple[Retrier, ...]:
        """The policy, with the shorthand spelled out (a fixed delay, any error)."""
        if self.retry:
            return tuple(self.retry)
        if self.retries:
            delay = self.retry_delay_seconds if self.retry_delay_seconds is not None else 10
            return (
                Retrier(
                    errors=[USER_ERROR],
                    max_attempts=self.retries,
                    interval=delay,
                    backoff_rate=1.0,
                ),
            )
        return ()

    @property
    def permit(self) -> Concurrency | None:
        """The concurrency key the step needs a permit of (a foreach's ``concurrency``
        is its iterations' limit instead, not a key)."""
        return self.concurrency if isinstance(self.concurrency, Concurrency) else None

    @property
    def edges(self) -> list[Edge]:
        return [Edge(step=d) if isinstance(d, str) else d for d in self.depends_on]

    @property
    def dependency_ids(self) -> list[str]:
        return [d if isinstance(d, str) else d.step for d in self.depends_on]


def _typed(value: Any) -> bool:
    """``{type: int, value: ...}``: a typed step param declaration."""
    return (
        isinstance(value, dict)
        and set(value) == {"type", "value"}
        and value["type"] in {t.value for t in ParamType}
    )


class NoopStep(StepBase):
    type: Literal["noop"]


class LambdaStep(StepBase):
    """Invoke a function: a Lambda name or ARN, or ``module:function`` on the local runtime."""

    type: Literal["lambda"]
    function: Annotated[str, Field(min_length=1, max_length=256)]
    # Any JSON, as Lambda's Invoke takes any JSON document: a map, or a template giving
    # any value (``payload: "${steps.a.output}"``), a list, a string. Data, not a setting:
    # a boolean here is a boolean (no whole-number refusal), a map's keys are strings.
    payload: dict[str, Any] | list[Any] | str | int | float | bool | None = Field(
        default_factory=dict,
        description="Any JSON (the event's payload); strings may hold ${...} templates.",
    )
    invocation: Literal["sync", "async"] = Field(
        default="sync",
        description="async: invoke and wait for the function to call back with the"
        " callback_token of its event (no worker waits; docs/workflow-language.md).",
    )
    heartbeat_seconds: HeartbeatSeconds | None = None

    @model_validator(mode="after")
    def _heartbeat_needs_async(self) -> LambdaStep:
        if self.heartbeat_seconds is not None and self.invocation != "async":
            raise ValueError(
                "heartbeat_seconds needs invocation: async (a synchronous invoke is bounded"
                " by its timeout)"
            )
        return self

    @property
    def runtime_key(self) -> str:
        """Which runtime runs it: an async invocation waits like a callback step."""
        return "lambda_async" if self.invocation == "async" else "lambda"


class SleepStep(StepBase):
    type: Literal["sleep"]
    seconds: Annotated[
        int, Field(ge=0, json_schema_extra={"maximum": MAX_TIMEOUT_SECONDS}), NOT_BOOLEAN
    ]

    @field_validator("seconds")
    @classmethod
    def _at_most_a_timeout(cls, v: int) -> int:
        # A sleep longer than the longest step timeout could only ever time out.
        if v > MAX_TIMEOUT_SECONDS:
            raise ValueError(
                f"a sleep is at most {MAX_TIMEOUT_SECONDS:,} s (120 days, the longest step"
                f" timeout), not {v:,} s; for a longer wait, start the next run from a"
                " schedule (a cron or rate trigger) or wait for a signal"
            )
        return v

    @model_validator(mode="after")
    def _within_timeout(self) -> SleepStep:
        # Only against the default: an explicit shorter timeout is the user's choice.
        if self.timeout is None and self.seconds > DEFAULT_WAIT_TIMEOUT_SECONDS:
            raise ValueError(
                f"the sleep of {self.seconds:,} s is longer than the default step timeout"
                f" of {DEFAULT_WAIT_TIMEOUT_SECONDS:,} s (10 days); set"
                f" timeout: {-(-self.seconds // 86_400)}d (up to 120 days)"
            )
        return self


class FailStep(StepBase):
    type: Literal["fail"]
    message: str = "failed by a fail step"


# ---- step types whose work runs outside Podium (service/runtimes/external.py) ---------
# Their request fields may hold ${...} templates, rendered when the attempt starts:
# ``templated`` names them, and the definition's expressions compile them once.

AWS_NAME = r"^[A-Za-z0-9][A-Za-z0-9_./:+=@-]{0,2047}$"  # a name or an ARN
HTTP_HEADER = r"^[A-Za-z0-9-]{1,64}$"
Name = Annotated[str, Field(pattern=AWS_NAME)]


class _TemplatedStep(StepBase):
    @property
    def templated(self) -> dict[str, Any]:
        """The request fields rendered at start (templates anywhere inside)."""
        return {}


class EcsNetwork(_Model):
    """``awsvpc`` networking of a task (Fargate needs it)."""

    subnets: Annotated[list[Name], Field(min_length=1, max_length=16)]
    security_groups: Annotated[list[Name], Field(max_length=5)] = Field(default_factory=list)
    assign_public_ip: bool = False


class CapacityProviderItem(_Model):
    provider: Name
    weight: Annotated[int, Field(ge=0, le=1000), NOT_BOOLEAN] = 1
    base: Annotated[int, Field(ge=0, le=100_000), NOT_BOOLEAN] = 0


class EcsTaskStep(_TemplatedStep):
    """Run one ECS task (Fargate or EC2) to its end: its container's exit code decides."""

    type: Literal["ecs_task"]
    cluster: Name
    task_definition: Name = Field(description="family, family:revision, or an ARN")
    container: Name | None = Field(
        default=None, description="The container whose overrides and exit code count."
    )
    command: list[str] | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    launch_type: Literal["FARGATE", "EC2"] | None = None
    capacity_provider: Name | list[CapacityProviderItem] | None = None
    network: EcsNetwork | None = None

    @model_validator(mode="after")
    def _one_capacity_form(self) -> EcsTaskStep:
        if self.launch_type is not None and self.capacity_provider is not None:
            raise ValueError(
                "use either launch_type or capacity_provider, not both (ECS refuses both)"
            )
        if (self.command is not None or self.environment) and self.container is None:
            raise ValueError(
                "command and environment override one container: name it with"
                " container: <name in the task definition>"
            )
        return self

    @property
    def templated(self) -> dict[str, Any]:
        return {"command": self.command, "environment": self.environment}


class BatchJobStep(_TemplatedStep):
    """Submit one AWS Batch job and wait for it to end."""

    type: Literal["batch_job"]
    job_queue: Name
    job_definition: Name
    command: list[str] | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    parameters: dict[str, str] = Field(default_factory=dict)

    @property
    def templated(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "environment": self.environment,
            "parameters": self.parameters,
        }


# The run argument Podium gives every Glue job run: the attempt key (adapters/jobs/glue.py).
GLUE_ATTEMPT_ARGUMENT = "--podium-attempt"


def check_glue_argument_name(name: str, info: ValidationInfo) -> str:
    """Glue hands a job's script only arguments named with two leading hyphens (read as
    ``getResolvedOptions(sys.argv, ['day'])``); any other name started a billed run whose
    script then failed. ``--podium-attempt`` is Podium's own (it finds the run by it).
    A push rule: a version stored before it still loads (core/dsl/stored.py)."""
    if not at_push(info):
        return name
    if name == GLUE_ATTEMPT_ARGUMENT:
        raise ValueError(
            f"{GLUE_ATTEMPT_ARGUMENT} is Podium's own argument (the attempt that started the"
            " run); name yours otherwise"
        )
    if not name.startswith("--") or len(name) < 3:
        bare = name.lstrip("-")
        fix = f"write it --{bare} (the script reads it as '{bare}')" if bare else "--<name>"
        raise ValueError(f"Glue passes a job only arguments named with two leading hyphens: {fix}")
    return name


GlueArgumentName = Annotated[str, AfterValidator(check_glue_argument_name)]


class GlueJobStep(_TemplatedStep):
    """Start one run of a Glue job and wait for it to end."""

    type: Literal["glue_job"]
    job_name: Name
    arguments: dict[GlueArgumentName, str] = Field(
        default_factory=dict, description="Job arguments, e.g. {'--day': '${run.logical_date}'}"
    )

    @property
    def templated(self) -> dict[str, Any]:
        return {"arguments": self.arguments}


STATE_MACHINE_ARN = re.compile(
    r"^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:(?P<name>[^\s:/]{1,80})"
    r"(?P<qualifier>:[^\s:/]+)?$"
)


def check_state_machine_arn(value: str) -> str:
    """StartExecution takes an ARN, and Podium derives the ARN of the attempt's execution
    from it (to find a lost start again, and to stop it): a plain name would fail only
    when the step runs; a version or alias ARN (``...:stateMachine:NAME:QUALIFIER``)
    would start an execution that ARN does not find."""
    m = STATE_MACHINE_ARN.match(value)
    if m is None:
        name = value.rsplit(":", 1)[-1].split("/", 1)[0] or "NAME"
        raise ValueError(
            f"'{value}' is not a state machine ARN; write the whole ARN, e.g."
            f" arn:aws:states:<region>:<account>:stateMachine:{name}"
        )
    if m["qualifier"]:
        unqualified = value[: m.start("qualifier")]
        raise ValueError(
            f"'{value}' is a version or alias ARN, which sfn_execution does not take (an"
            " execution started from it is not found again by its derived ARN); write the"
            f" state machine's own ARN: {unqualified}"
        )
    return value


class SfnExecutionStep(_TemplatedStep):
    """Start an execution of another Step Functions state machine; its output is the
    step's output."""

    type: Literal["sfn_execution"]
    state_machine: str = Field(
        description="The state machine's ARN: arn:aws:states:<region>:<account>:stateMachine:"
        "<name> (not a version or alias ARN)"
    )
    input: Any = Field(default_factory=dict)

    @field_validator("state_machine")
    @classmethod
    def _state_machine_arn(cls, v: str) -> str:
        return check_state_machine_arn(v)

    @property
    def templated(self) -> dict[str, Any]:
        return {"input": self.input}


HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


class HttpAuth(_Model):
    """A header whose value comes from Secrets Manager (never from the definition)."""

    secret: Name = Field(description="The secret's name (or ARN) in Secrets Manager.")
    key: str | None = Field(
        default=None, description="A JSON secret's field to use (default: the whole value)."
    )
    header: Annotated[str, Field(pattern=HTTP_HEADER)] = "Authorization"
    prefix: Annotated[str, Field(max_length=32)] = "Bearer "


class HttpStep(_TemplatedStep):
    """One HTTP request to a host on the deployment's allow-list; its JSON body is the
    step's output. 2xx succeeds, 4xx fails without retry, anything else is retried
    (twice by default: Podium.HttpError)."""

    type: Literal["http"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    url: Annotated[str, Field(min_length=1, max_length=4096)]
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    success: Annotated[str, Field(min_length=1)] | None = Field(
        default=None,
        description="An expression over response.status, response.body and"
        " response.headers that says the call succeeded (default: a 2xx status).",
    )
    auth: HttpAuth | None = None
    connect_timeout: Seconds = 10
    read_timeout: Seconds = 30
    max_response_bytes: Annotated[int, Field(ge=1, le=10 * 1024 * 1024), NOT_BOOLEAN] = 1024 * 1024

    @field_validator("connect_timeout", "read_timeout")
    @classmethod
    def _timeouts(cls, v: Any) -> float:
        return _seconds(v, 0.1, 900, "an HTTP timeout")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if "${" not in v.split("//", 1)[-1].split("/", 1)[0] and not v.startswith(
            ("http://", "https://")
        ):
            raise ValueError(f"'{v}' is not an http:// or https:// URL")
        return v

    @field_validator("success")
    @classmethod
    def _success(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None:
            return v
        from podium.core.expr import ExpressionError, compile_expression

        shape = condition_problem(v) if at_push(info) else None
        if shape is not None:
            raise ValueError(f"success: {shape}")

        try:
            compiled = compile_expression(v)
        except ExpressionError as exc:
            raise ValueError(f"success: {exc}") from None
        bad = sorted(r for r in compiled.references if r.split(".")[0] != "response")
        if bad:
            raise ValueError(
                f"success reads '{bad[0]}'; it may read response.status, response.body"
                " and response.headers"
            )
        return v

    @property
    def templated(self) -> dict[str, Any]:
        return {"url": self.url, "headers": self.headers, "body": self.body}

    @property
    def retriers(self) -> tuple[Retrier, ...]:
        """Without a policy of its own, a retryable HTTP failure (5xx, 429, a timeout,
        a refused connection) is retried twice, 5 s then 10 s later (Maestro's budget)."""
        if self.retry or self.retries is not None:
            return super().retriers
        return (Retrier(errors=["Podium.HttpError"], max_attempts=2, interval=5),)


class WaitForCallbackStep(_TemplatedStep):
    """Wait for an outside party to call back with the step's token (``podium callback
    TOKEN``, ``POST /callbacks/{token}``): the token is in the step's output while it
    waits and is published on the bus with ``payload``."""

    type: Literal["wait_for_callback"]
    payload: Any = Field(default_factory=dict, description="Published with the token.")
    heartbeat_seconds: HeartbeatSeconds | None = Field(
        default=None,
        description="Fail (Podium.Timeout) when no heartbeat or result comes this often.",
    )

    @property
    def templated(self) -> dict[str, Any]:
        return {"payload": self.payload}


class ApprovalStep(_TemplatedStep):
    """A person approves (the step succeeds) or rejects (it fails) with the token."""

    type: Literal["approval"]
    message: Annotated[str, Field(min_length=1, max_length=4096)]
    approvers: list[Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        default_factory=list,
        description="Who may decide (the name given with --by); empty: anyone who may"
        " call the API.",
    )

    @property
    def templated(self) -> dict[str, Any]:
        return {"message": self.message}


# What every foreach iteration has besides its loop params (service/loops.py).
FOREACH_BUILTINS = frozenset({"index", "parent"})
# What a loop body knows of a value it reads (its ``iteration``, a while's ``state``):
# the value's fields, each with what is known of its own, or None when anything may be
# inside (a loop value, a state value). Set by core.dsl.loops, checked at push.
Fields: TypeAlias = Mapping[str, "Fields | None"]


class ForeachMode(str, Enum):
    PRODUCT = "product"  # the Cartesian product, the first param varying fastest
    ZIP = "zip"  # the i-th value of every param


class ForeachStep(StepBase):
    """Run ``steps`` once per combination of the loop params, each iteration a child run
    (docs/workflow-language.md, "foreach")."""

    type: Literal["foreach"]
    over: Annotated[
        dict[
            Annotated[str, Field(pattern=IDENTIFIER)],
            list[Any] | Annotated[str, Field(min_length=1)],
        ],
        Field(
            min_length=1,
            description="Loop params: each a list, or a template giving a list"
            " (${podium.range(0, 10)}, ${podium.dateRange(params.start, params.end)}).",
        ),
    ]
    mode: ForeachMode = ForeachMode.PRODUCT
    concurrency: Annotated[
        int, Field(ge=1, le=1_000), not_boolean("concurrency", "a whole number (1 to 1,000)")
    ] = Field(default=20, description="Iterations running at once (at most 1,000).")  # type: ignore[assignment]
    on_failure: Literal["fail_fast", "finish_running", "continue"] = "finish_running"
    tolerated_failures: Annotated[
        Annotated[int, Field(ge=0)] | Annotated[str, Field(pattern=PERCENTAGE)],
        BeforeValidator(_count_or_percentage),
        not_boolean("tolerated_failures", "a count or a percentage such as '10%'"),
    ] = Field(default=0, description="With continue: a count, or a percentage such as '10%'.")
    steps: Annotated[list[Step], Field(min_length=1)]

    @field_validator("over")
    @classmethod
    def _not_reserved(cls, v: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        # An iteration's values are {index, <loop params>, parent}: a loop param of one of
        # these names would silently replace the built-in (service/loops.py). A push rule.
        taken = sorted(set(v) & FOREACH_BUILTINS) if at_push(info) else []
        if taken:
            raise ValueError(
                f"over.{taken[0]}: the name is reserved (iteration.index is the iteration's"
                " number, iteration.parent the enclosing loop's iteration); rename the loop"
                " param"
            )
        return v

    @model_validator(mode="after")
    def _loop_rules(self) -> ForeachStep:
        if self.retry or self.retries:
            raise ValueError(
                "a foreach is never retried as a whole (its iterations are runs); put"
                " retries on the steps inside it"
            )
        if _tolerates_some(self.tolerated_failures) and self.on_failure != "continue":
            raise ValueError("tolerated_failures applies with on_failure: continue only")
        return self


class WhileStep(StepBase):
    """Run ``steps`` again and again while ``condition`` holds, one iteration at a time,
    each a child run; ``update`` computes the next ``state`` from the iteration's
    outputs (docs/workflow-language.md, "while")."""

    type: Literal["while"]
    state: dict[Annotated[str, Field(pattern=IDENTIFIER)], Any] = Field(
        default_factory=dict,
        description="The initial loop state: values or ${...} templates over params.",
    )
    condition: Annotated[str, Field(min_length=1)] = Field(
        description="An expression over state, iteration and params, evaluated before"
        " every iteration (the first included): the loop goes on while it is true."
    )
    update: dict[Annotated[str, Field(pattern=IDENTIFIER)], Any] = Field(
        default_factory=dict,
        description="After each iteration: state fields and their new values (templates"
        " over state, iteration, params and the iteration's steps).",
    )
    max_iterations: Annotated[
        int, Field(ge=1, le=100_000), not_boolean("max_iterations", "a whole number")
    ] = 10_000
    steps: Annotated[list[Step], Field(min_length=1)]

    @model_validator(mode="after")
    def _loop_rules(self) -> WhileStep:
        if self.retry or self.retries:
            raise ValueError(
                "a while is never retried as a whole (its iterations are runs); put"
                " retries on the steps inside it"
            )
        return self


MAX_SUBWORKFLOW_VERSION = 10**9  # as the API takes a version: no store holds a bigger one


def _subworkflow_version(value: Any, info: ValidationInfo) -> Any:
    """One message for a bad ``version`` (pydantic gave one per member of the union, in
    its own words): a number past 10**9 or below 1, or a word other than the two. A
    version number written as a string ("3") is the number, as every whole-number field
    reads one."""
    given = value
    if isinstance(value, str) and value not in ("active", "latest"):
        number = whole_number(value)
        value = value if number is None else number
    if isinstance(value, bool) or not at_push(info):
        return value  # a boolean: not_boolean's message
    if isinstance(value, int) and 1 <= value <= MAX_SUBWORKFLOW_VERSION:
        return value
    if value in ("active", "latest"):
        return value
    shown = repr(given) if len(repr(given)) <= 40 else repr(given)[:37] + "..."
    hint = did_you_mean(value, ["active", "latest"]) if isinstance(value, str) else ""
    raise ValueError(
        f"{shown} is not a version{hint}: use active, latest or a version number from 1 to"
        f" {MAX_SUBWORKFLOW_VERSION:,}"
    )


class SubworkflowStep(StepBase):
    """Run another pushed workflow as a child run; its ``params`` are the step params
    (rendered when the step starts) and its declared ``outputs`` become the step's
    output (docs/workflow-language.md, "subworkflow")."""

    type: Literal["subworkflow"]
    workflow: Annotated[str, Field(pattern=WORKFLOW_NAME, description="A pushed workflow.")]
    version: Annotated[
        Literal["active", "latest"] | Annotated[int, Field(ge=1)],
        not_boolean("version", "active, latest or a version number"),
        BeforeValidator(_subworkflow_version),
    ] = Field(
        default="active",
        description="active (default), latest or a version number; resolved once, recorded.",
    )
    wait: bool = Field(
        default=True,
        description="false: the step succeeds once the child has started.",
    )


Step = Annotated[
    NoopStep
    | LambdaStep
    | SleepStep
    | FailStep
    | ForeachStep
    | WhileStep
    | SubworkflowStep
    | EcsTaskStep
    | BatchJobStep
    | GlueJobStep
    | SfnExecutionStep
    | HttpStep
    | WaitForCallbackStep
    | ApprovalStep,
    Field(discriminator="type"),
]

StepModel = (
    NoopStep
    | LambdaStep
    | SleepStep
    | FailStep
    | ForeachStep
    | WhileStep
    | SubworkflowStep
    | EcsTaskStep
    | BatchJobStep
    | GlueJobStep
    | SfnExecutionStep
    | HttpStep
    | WaitForCallbackStep
    | ApprovalStep
)
STEP_TYPES: tuple[str, ...] = (
    "noop",
    "lambda",
    "sleep",
    "fail",
    "foreach",
    "while",
    "subworkflow",
    "ecs_task",
    "batch_job",
    "glue_job",
    "sfn_execution",
    "http",
    "wait_for_callback",
    "approval",
)


class Strategy(str, Enum):
    """What happens to a run that starts while others are active (docs/run-strategies.md)."""

    SEQUENTIAL = "sequential"
    STRICT_SEQUENTIAL = "strict_sequential"
    FIRST_ONLY = "first_only"
    LAST_ONLY = "last_only"
    PARALLEL = "parallel"


class StepEvents(str, Enum):
    """Which step status changes go to the bus (docs/events.md)."""

    NONE = "none"
    FAILURES = "failures"  # FAILED, TIMED_OUT, and failed attempts that will be retried
    ALL = "all"


# A workflow's active runs hold its slots in one DynamoDB item (400 KB), 74 bytes each at
# most (a 64-character run id: adapters/dynamo_slots.py): 5,000 fit with room to spare,
# 10,000 (the bound before) did not. A version stored with more still loads and runs:
# past what the item holds its runs wait, queued.
MAX_PARALLEL_RUNS = 5_000


class Parallel(_Model):
    """``run_strategy: {parallel: N}``: at most N active runs; 0 pauses the workflow."""

    parallel: Annotated[int, Field(ge=0, le=10_000), NOT_BOOLEAN]

    @field_validator("parallel")
    @classmethod
    def _slots_fit(cls, v: int, info: ValidationInfo) -> int:
        if v > MAX_PARALLEL_RUNS and at_push(info):
            raise ValueError(
                f"{v:,} is over the maximum of {MAX_PARALLEL_RUNS:,} active runs"
                " (a workflow's run slots are kept in one 400 KB DynamoDB item)"
            )
        return v


def _no_bare_parallel(value: Any, info: ValidationInfo) -> Any:
    """``run_strategy: parallel`` without its limit read as a limit of 1 (runs one at a
    time, silently): refused at push, where the message names ``{parallel: N}``. (The
    enum member is what a definition reads back: ``{parallel: N}`` is Strategy.PARALLEL;
    a version stored before keeps its reading.)"""
    if value == Strategy.PARALLEL.value and at_push(info):
        raise ValueError("run_strategy parallel needs its limit: {parallel: N}")
    return value


class WorkflowDefinition(_Model):
    """A workflow: typed params and a DAG of steps."""

    name: Annotated[str, Field(pattern=WORKFLOW_NAME)]
    description: str = ""
    run_strategy: Annotated[Strategy | Parallel, BeforeValidator(_no_bare_parallel)] = (
        Strategy.SEQUENTIAL
    )
    max_parallel_steps: Annotated[int, Field(ge=1, le=10_000), NOT_BOOLEAN] | None = None
    timeout: Seconds | None = Field(
        default=None, description="Seconds (or '2h30m') a run may take before TIMED_OUT."
    )
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Short key: value strings every run of the workflow carries (at most 50;"
        " keys of letters, digits and _.:/@+-, values of at most 256 characters).",
    )
    steps: Annotated[list[Step], Field(min_length=1)]
    step_events: StepEvents = Field(
        default=StepEvents.FAILURES,
        description="Step status changes published on the bus: none, failures or all.",
    )
    triggers: list[Trigger] = Field(
        default_factory=list,
        description="What starts runs: cron, rate, s3, event or signal"
        " (docs/workflow-language.md).",
    )
    outputs: dict[Annotated[str, Field(pattern=IDENTIFIER)], Any] = Field(
        default_factory=dict,
        description="What a run gives its caller (a subworkflow step's output): values or"
        " ${...} templates over params and steps, rendered when the run succeeds.",
    )
    # Names a loop body's expressions may read beyond params, steps and run
    # ("iteration", "state"): set on the bodies core.dsl.loops builds, never by users.
    _scope_roots: frozenset[str] = PrivateAttr(default=frozenset())
    # The known fields of those roots (a foreach body's iteration: index, its loop
    # params and parent), so a typo there is refused at push too.
    _scope_fields: Fields = PrivateAttr(default_factory=dict)

    @property
    def scope_roots(self) -> frozenset[str]:
        return self._scope_roots

    @property
    def scope_fields(self) -> Fields:
        return self._scope_fields

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: Any) -> Any:
        return None if v is None else _seconds(v, 1, MAX_TIMEOUT_SECONDS, "timeout")

    @field_validator("triggers")
    @classmethod
    def _triggers(cls, v: list[Trigger]) -> list[Trigger]:
        return check_triggers(v)

    @property
    def trigger_map(self) -> dict[str, Trigger]:
        """Triggers by id (their own, or kind_position)."""
        return dict(zip(trigger_ids(self.triggers), self.triggers, strict=True))

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        from podium.core.tags import tag_issues

        # Pushed tags must be trimmed, as a run's are; a version stored before loads.
        issues = tag_issues(v, "tags", given=at_push(info))
        if issues:
            # The error's place is "tags" already: a key's issue adds the key, the map's
            # own (too many tags) none.
            raise ValueError(
                "; ".join(f"{i.path[5:]}: {i.message}" if i.path[5:] else i.message for i in issues)
            )
        return v

    @property
    def strategy(self) -> Strategy:
        return Strategy.PARALLEL if isinstance(self.run_strategy, Parallel) else self.run_strategy

    @property
    def run_limit(self) -> int:
        """How many runs may be active at once."""
        if isinstance(self.run_strategy, Parallel):
            return self.run_strategy.parallel
        return 1

    def step(self, step_id: str) -> StepModel:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)


ForeachStep.model_rebuild()
WhileStep.model_rebuild()
