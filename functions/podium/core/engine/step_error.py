"""A step attempt's error: structured, small, and matched by name in retry policies.

``type`` is what users match: one of the ``Podium.*`` names below, or the class name of
the user's own exception (``ValueError``, ``botocore.exceptions.ClientError``'s
``ClientError``...). Every type belongs to one category, so a policy can also say
``Podium.UserError`` for "any error raised by the step's code".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

USER_ERROR = "Podium.UserError"  # the step's code raised or returned an error
PLATFORM_ERROR = "Podium.PlatformError"  # throttling, capacity, a lost worker
TIMEOUT = "Podium.Timeout"
STOPPED = "Podium.Stopped"
ANY_ERROR = "Podium.ALL"  # in a retry policy: every retryable error
CATEGORIES = (USER_ERROR, PLATFORM_ERROR, TIMEOUT, STOPPED)

# Stored errors stay small: a step item is rewritten on every transition and billed per KB.
MAX_MESSAGE_CHARS = 2048
MAX_TRACEBACK_CHARS = 16 * 1024


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    return f"{text[: limit - 40]} ... [{cut + 40} characters cut]"


@dataclass(frozen=True, slots=True)
class StepError:
    type: str
    message: str
    retryable: bool = True
    details: dict[str, Any] = field(default_factory=dict)
    traceback: str | None = None

    @classmethod
    def of(
        cls,
        type_: str,
        message: str,
        *,
        retryable: bool = True,
        details: dict[str, Any] | None = None,
        traceback: str | None = None,
    ) -> StepError:
        return cls(
            type_ or USER_ERROR,
            clip(message, MAX_MESSAGE_CHARS),
            retryable,
            dict(details or {}),
            clip(traceback, MAX_TRACEBACK_CHARS) if traceback else None,
        )

    @property
    def category(self) -> str:
        if self.type in CATEGORIES:
            return self.type
        return USER_ERROR  # a user's own exception class

    def matches(self, names: tuple[str, ...]) -> bool:
        """A retrier's ``errors`` list names this error: its type, its category, or all."""
        return ANY_ERROR in names or self.type in names or self.category in names

    def summary(self) -> str:
        """One line for tables and the run's error: ``Type: message``."""
        if self.type in CATEGORIES and self.type != USER_ERROR:
            return f"{self.type}: {self.message}"
        if self.type == USER_ERROR:
            return self.message
        return f"{self.type}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "message": self.message,
            "retryable": self.retryable,
            "details": self.details,
        }
        if self.traceback:
            body["traceback"] = self.traceback
        return body


def user_error(message: str, **kw: Any) -> StepError:
    return StepError.of(USER_ERROR, message, **kw)


def platform_error(message: str, **kw: Any) -> StepError:
    return StepError.of(PLATFORM_ERROR, message, **kw)


def timeout_error(message: str, **kw: Any) -> StepError:
    return StepError.of(TIMEOUT, message, **kw)


def step_timeout_error(timeout: float) -> StepError:
    """An attempt that ran past its step's ``timeout`` (seconds)."""
    return timeout_error(f"the attempt ran longer than the step's timeout of {timeout:g} s")


def stopped_reason(reason: str) -> str:
    """A child run's reason when its parent step is stopped for ``reason``: ``stopped:
    ...`` once, however deep (a reason that says so already is passed down as it is:
    each level of nesting added another ``stopped: ``)."""
    return reason if reason.startswith("stopped: ") else f"stopped: {reason}"
