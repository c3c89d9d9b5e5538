"""Pydantic models of a workflow definition (the YAML/JSON a user pushes).

Models are frozen and forbid unknown fields, so a typo is an error, not a silent no-op.
Graph-level checks (unknown dependencies, cycles) live in ``graph_checks``; these models
only check the shape of each piece.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,79}$"
WORKFLOW_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,79}$"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ParamType(str, Enum):
    STRING = "string"
    INT = "int"
    DOUBLE = "double"
    BOOL = "bool"
    LIST = "list"
    MAP = "map"


class ParamSpec(_Model):
    """A typed workflow parameter. A param without a default must be given at run time.

    ``default`` is a literal today; the expression language (``${...}``) plugs in here:
    a string default will be compiled as a template before type checking.
    """

    type: ParamType
    default: Any = None
    description: str = ""
    required: bool = False


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

    key: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,80}$")]
    limit: Annotated[int, Field(ge=1, le=10_000)]


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
    retries: Annotated[int, Field(ge=0, le=100)] = 0
    retry_delay_seconds: Annotated[int, Field(ge=0, le=86_400)] = 10

    @property
    def edges(self) -> list[Edge]:
        return [Edge(step=d) if isinstance(d, str) else d for d in self.depends_on]

    @property
    def dependency_ids(self) -> list[str]:
        return [d if isinstance(d, str) else d.step for d in self.depends_on]


class NoopStep(StepBase):
    type: Literal["noop"]


class LambdaStep(StepBase):
    """Invoke a function: a Lambda name or ARN, or ``module:function`` on the local runtime."""

    type: Literal["lambda"]
    function: Annotated[str, Field(min_length=1, max_length=256)]
    payload: dict[str, Any] = Field(default_factory=dict)


class SleepStep(StepBase):
    type: Literal["sleep"]
    seconds: Annotated[int, Field(ge=0, le=365 * 86_400)]


class FailStep(StepBase):
    type: Literal["fail"]
    message: str = "failed by a fail step"


Step = Annotated[
    NoopStep | LambdaStep | SleepStep | FailStep,
    Field(discriminator="type"),
]

StepModel = NoopStep | LambdaStep | SleepStep | FailStep
STEP_TYPES: tuple[str, ...] = ("noop", "lambda", "sleep", "fail")


class Strategy(str, Enum):
    """What happens to a run that starts while others are active (docs/run-strategies.md)."""

    SEQUENTIAL = "sequential"
    STRICT_SEQUENTIAL = "strict_sequential"
    FIRST_ONLY = "first_only"
    LAST_ONLY = "last_only"
    PARALLEL = "parallel"


class Parallel(_Model):
    """``run_strategy: {parallel: N}``: at most N active runs; 0 pauses the workflow."""

    parallel: Annotated[int, Field(ge=0, le=10_000)]


class WorkflowDefinition(_Model):
    """A workflow: typed params and a DAG of steps."""

    name: Annotated[str, Field(pattern=WORKFLOW_NAME)]
    description: str = ""
    run_strategy: Strategy | Parallel = Strategy.SEQUENTIAL
    max_parallel_steps: Annotated[int, Field(ge=1, le=10_000)] | None = None
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    steps: Annotated[list[Step], Field(min_length=1)]

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
