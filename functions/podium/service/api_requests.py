"""Request bodies of the HTTP API, validated by pydantic with path-precise errors."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from podium.core.dsl.errors import DefinitionError, Issue, format_path

RUN_ID = r"^[A-Za-z0-9_-]{1,64}$"


class StartRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    params: dict[str, Any] = Field(default_factory=dict)
    version: Annotated[int, Field(ge=1)] | None = None
    # A client token: the same run_id twice starts one run (safe retries).
    run_id: Annotated[str, Field(pattern=RUN_ID)] | None = None


def parse_start_run(body: Any) -> StartRunRequest:
    try:
        return StartRunRequest.model_validate(body if body is not None else {})
    except ValidationError as exc:
        raise DefinitionError(
            [Issue(format_path(["body", *e["loc"]]), str(e["msg"])) for e in exc.errors()]
        ) from None
