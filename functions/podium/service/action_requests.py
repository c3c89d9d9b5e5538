"""Request bodies of the action routes, validated with path-precise errors:

POST /runs/{run_id}/actions        {"action": "stop|kill|pause|resume|restart",
                                    "reason"?, "request_id"?,
                                    restart only: "from"?, "params"?, "version"?}
POST /runs/{run_id}/steps/actions  {"step": PATH, "action": "skip|retry|stop|resume",
                                    "reason"?, "request_id"?}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from podium.core.dsl.errors import DefinitionError, Issue, request_issues
from podium.core.engine.actions import RunAction, StepAction
from podium.service.restart import RestartRequest

REQUEST_ID = r"^[A-Za-z0-9_.:-]{1,128}$"
Reason = Annotated[str, Field(max_length=1000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: Reason | None = None
    # The same request_id again answers what the first request did (safe retries).
    request_id: Annotated[str, Field(pattern=REQUEST_ID)] | None = None


class RunActionRequest(_Body):
    action: RunAction
    start_from: Annotated[str | None, Field(alias="from", min_length=1, max_length=500)] = None
    params: dict[str, Any] | None = None
    # strict: true and "1" are not version 1 (pydantic's lax mode took them)
    version: Annotated[int, Field(ge=1, le=10**9, strict=True)] | Literal["active"] | None = None

    def restart_request(self) -> RestartRequest:
        return RestartRequest(
            start_from=self.start_from or "incomplete",
            params=self.params or {},
            version=self.version,
        )


class StepActionRequest(_Body):
    step: Annotated[str, Field(min_length=1, max_length=1000)]
    action: StepAction


def _issues(exc: ValidationError) -> DefinitionError:
    return DefinitionError(request_issues(exc.errors()))


def parse_run_action(body: Any) -> RunActionRequest:
    try:
        request = RunActionRequest.model_validate(body if body is not None else {})
    except ValidationError as exc:
        raise _issues(exc) from None
    if request.action is not RunAction.RESTART:
        extra = [
            name
            for name, value in (
                ("from", request.start_from),
                ("params", request.params),
                ("version", request.version),
            )
            if value is not None
        ]
        if extra:
            raise DefinitionError([Issue(f"body.{extra[0]}", f"only a restart takes '{extra[0]}'")])
    return request


def parse_step_action(body: Any) -> StepActionRequest:
    try:
        return StepActionRequest.model_validate(body if body is not None else {})
    except ValidationError as exc:
        raise _issues(exc) from None
