"""Whether a failed attempt is retried, and when: one decision, from the step's policy.

Order (as Step Functions' retriers): the step's own retriers are tried first, in order;
the first whose ``errors`` name the error and whose ``when`` holds decides, with its own
count. When none matches, the default budget of the error's category applies: user
errors 0, timeouts 0, platform errors (throttling, a lost worker) 10, exponential from
5 s, capped at an hour, with full jitter. A non-retryable error is never retried.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from podium.core.dsl.errors import did_you_mean
from podium.core.engine.step_error import PLATFORM_ERROR, StepError
from podium.core.expr import ExpressionError, compile_expression

if TYPE_CHECKING:
    from podium.core.dsl.models import Retrier

ERROR_NAMES = frozenset({"error"})
ERROR_FIELDS = ("type", "message", "attempt")  # what ``_holds`` binds of ``error``


@dataclass(frozen=True, slots=True)
class Budget:
    max_attempts: int
    interval: float
    backoff_rate: float
    max_delay: float | None
    full_jitter: bool


PLATFORM_BUDGET = Budget(10, 5.0, 2.0, 3600.0, True)
# No wait between two attempts is longer, whatever the backoff says without a
# ``max_delay`` (10 x 10^98 s has no date a timer could be set at).
MAX_RETRY_DELAY_S = 30 * 86_400


@dataclass(frozen=True, slots=True)
class Retry:
    next_attempt: int
    delay_seconds: int
    counter: str  # which count this retry used ("0", "1"... a retrier; "platform")


def check_condition(source: str, *, fields_checked: bool = True) -> None:
    """Compile a retrier's ``when`` at push time: only ``error`` may be read, and of it
    only ERROR_FIELDS (``fields_checked``; a push rule): a condition reading another
    field (``error.atempt``) fails to evaluate on every failure, which ``_holds`` takes
    as false, so the retrier would silently never retry."""
    try:
        compiled = compile_expression(source)
    except ExpressionError as exc:
        raise ValueError(f"retry condition: {exc}") from None
    unknown = sorted(ref for ref in compiled.references if ref.split(".", 1)[0] not in ERROR_NAMES)
    hint = ""
    if not unknown and fields_checked:
        paths = (ref.split(".") for ref in compiled.references)
        fields = sorted(parts[1] for parts in paths if len(parts) > 1)
        wrong = [name for name in fields if name not in ERROR_FIELDS]
        if wrong:
            unknown, hint = [f"error.{wrong[0]}"], did_you_mean(wrong[0], ERROR_FIELDS)
    if unknown:
        raise ValueError(
            f"retry condition reads '{unknown[0]}'{hint}; only error.type, error.message and"
            " error.attempt are available here"
        )


def _holds(source: str, error: StepError, attempt: int) -> bool:
    try:
        value = compile_expression(source).evaluate(
            {"error": {"type": error.type, "message": error.message, "attempt": attempt}}
        )
    except ExpressionError:
        return False  # a condition that cannot be evaluated does not retry
    return value is True


def _budget(retrier: Retrier) -> Budget:
    return Budget(
        retrier.max_attempts,
        float(retrier.interval),
        retrier.backoff_rate,
        None if retrier.max_delay is None else float(retrier.max_delay),
        retrier.jitter.value == "full",
    )


def delay_of(budget: Budget, used: int, seed: str) -> int:
    """The wait before retry number ``used + 1``: interval x rate^used, capped, jittered.

    Jitter is drawn from a hash of ``seed`` (run/step/attempt), not from a random source:
    the core stays pure and a replayed decision waits exactly as long."""
    delay = min(budget.interval * budget.backoff_rate**used, MAX_RETRY_DELAY_S)
    if budget.max_delay is not None:
        delay = min(delay, budget.max_delay)
    if budget.full_jitter:
        digest = hashlib.sha256(seed.encode()).digest()
        delay *= int.from_bytes(digest[:8], "big") / 2**64
    # Whole seconds, half up (Python's round took 0.5 s to 0 and 2.5 s to 2); a delay
    # asked for is never cut to none (a 500 ms interval waits a second).
    return max(1, int(delay + 0.5)) if delay > 0 else 0


def plan_retry(
    retriers: tuple[Retrier, ...],
    error: StepError,
    attempt: int,
    counts: Mapping[str, int],
    seed: str,
) -> Retry | None:
    """None when the attempt's failure is final."""
    if not error.retryable:
        return None
    for index, retrier in enumerate(retriers):
        if not error.matches(tuple(retrier.errors)):
            continue
        if retrier.when is not None and not _holds(retrier.when, error, attempt):
            continue
        return _within(_budget(retrier), str(index), attempt, counts, seed)
    if error.category == PLATFORM_ERROR:
        return _within(PLATFORM_BUDGET, "platform", attempt, counts, seed)
    return None


def _within(
    budget: Budget, counter: str, attempt: int, counts: Mapping[str, int], seed: str
) -> Retry | None:
    used = counts.get(counter, 0)
    if used >= budget.max_attempts:
        return None
    return Retry(attempt + 1, delay_of(budget, used, seed), counter)


# --- a start given back (its look-up throttled): not a retry -----------------------------

# How many times one attempt's start may be given back before it fails as the platform
# error it is (a retry, on the platform budget, under a new key). Bounded, so a service
# down for good still ends the step: 8 give-backs wait about 3 to 6 minutes in all.
MAX_START_GIVE_BACKS = 8
FIRST_GIVE_BACK_SECONDS = 2
MAX_GIVE_BACK_SECONDS = 120  # far under SQS's 15 minutes: a plain delayed message
_GIVE_BACKS = "give_backs/"


def give_backs_counter(attempt: int) -> str:
    """The ``retry_counts`` entry that counts attempt ``attempt``'s give-backs. Kept on
    the step item (not in the message), so a re-driven message cannot reset it; named by
    the attempt, so a later attempt (a retry, an operator's) starts from none."""
    return f"{_GIVE_BACKS}{attempt}"


def was_given_back(counts: Mapping[str, int], attempt: int) -> bool:
    """Whether attempt ``attempt`` was claimed and given back before (the counts of a
    step item not past it). Claimed again, it is the same attempt going on, not a new
    one: it passed its breakpoint already (service/breakpoints.py) and said RUNNING
    already (service/execute.perform), so it does neither again."""
    return counts.get(give_backs_counter(attempt), 0) > 0


def without_give_backs(counts: Mapping[str, int]) -> dict[str, int]:
    """The retry counts an attempt's end carries forward: give-backs belong to it alone."""
    return {k: v for k, v in counts.items() if not k.startswith(_GIVE_BACKS)}


def give_back_delay(given: int, seed: str) -> int | None:
    """The wait (seconds) before a start given back ``given`` times already is tried
    again: exponential from FIRST_GIVE_BACK_SECONDS, capped at MAX_GIVE_BACK_SECONDS,
    with equal jitter (at least half of it: throttled starts spread out, yet always back
    off). Drawn from a hash of ``seed`` and ``given``, as ``delay_of``: pure, and a
    replayed decision waits as long. None once the attempt used MAX_START_GIVE_BACKS."""
    if given >= MAX_START_GIVE_BACKS:
        return None
    ceiling = min(MAX_GIVE_BACK_SECONDS, FIRST_GIVE_BACK_SECONDS * 2**given)
    digest = hashlib.sha256(f"{seed}#{given}".encode()).digest()
    share = int.from_bytes(digest[:8], "big") / 2**64
    delay: int = max(1, round(ceiling / 2 + ceiling / 2 * share))
    return delay
