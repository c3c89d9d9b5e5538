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

# Stored errors stay small: a step item is rewritten on every transition and billed per KB,
# and views list many of them under Lambda's 6 MB response. Bounds are in bytes of UTF-8
# (what DynamoDB counts), not characters: 2,048 characters of Japanese are 6 KB, 12 KB as
# JSON's \u escapes.
MAX_MESSAGE_BYTES = 2048
MAX_TRACEBACK_BYTES = 16 * 1024
# The type is the user's exception class name (or Lambda's ``errorType``), chosen by
# their code: bounded too, above any name a retrier can match (200 characters, 800 bytes).
MAX_TYPE_BYTES = 1024
_CUT_NOTE_BYTES = 40  # room for " ... [N characters cut]"


def clip(text: str, limit: int) -> str:
    """At most ``limit`` bytes of UTF-8, cut at a character's boundary, saying how many
    characters were cut."""
    data = text.encode("utf-8", "surrogatepass")  # a lone surrogate is counted, not refused
    if len(data) <= limit:
        return text
    keep = max(0, limit - _CUT_NOTE_BYTES)
    while keep and data[keep] & 0xC0 == 0x80:  # a continuation byte: back to the start
        keep -= 1
    head = data[:keep].decode("utf-8", "surrogatepass")
    return f"{head} ... [{len(text) - len(head)} characters cut]"


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
            clip(type_, MAX_TYPE_BYTES) if type_ else USER_ERROR,
            clip(message, MAX_MESSAGE_BYTES),
            retryable,
            dict(details or {}),
            clip(traceback, MAX_TRACEBACK_BYTES) if traceback else None,
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
