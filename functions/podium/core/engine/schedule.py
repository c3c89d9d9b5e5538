"""Cron and rate schedules: parsing, the times they fire, and EventBridge Scheduler's
expression for each.

Cron is the standard five fields (``minute hour day-of-month month day-of-week``, with
``*``, lists, ranges, steps, JAN-DEC and SUN-SAT names, 0 or 7 for Sunday) or a macro
(@hourly, @daily, @weekly, @monthly, @yearly), read in the trigger's time zone. Daylight
saving time follows EventBridge Scheduler: a local time skipped by the spring-forward
change does not run, and a local time repeated by the fall-back change runs once (at
its first occurrence). Restricting both the day of month and the day of week is refused
(Scheduler has no OR of the two).

Pure: times are epoch milliseconds in, epoch milliseconds out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_MONTHS = {m: i + 1 for i, m in enumerate(_MONTH_NAMES)}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12))
_RATE = re.compile(r"^\s*(\d+)\s*(m|min|minutes?|h|hours?|d|days?)\s*$")
MIN_RATE_MINUTES = 1
# Scheduler documents no largest rate, but a huge one is refused there after the version
# is stored; a year is as rare as a rate needs to be ('0 0 1 1 *' is a yearly cron).
MAX_RATE_MINUTES = 365 * 1440
MAX_SEARCH_MINUTES = 5 * 366 * 24 * 60  # a schedule that never fires in 5 years is refused
# Where that search starts (check_fires): a fixed time keeps validation pure, and any five
# years from it hold a 29 February, so only a date no month has (31 February) is refused.
_FIRES_FROM_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


class ScheduleError(ValueError):
    """A cron, rate or time zone that cannot be used; the message names the fix."""


def zone(name: str) -> ZoneInfo:
    """The time zone a trigger names, which must be a zone of the IANA database as the
    ``tzdata`` package (a dependency, shipped with the functions) lists it: whatever
    else the host's zoneinfo files take (``localtime``, ``posixrules``, ``posix/...``,
    ``right/...``) is this machine's setting or a variant, not a zone EventBridge
    Scheduler knows, and ``Factory`` is no zone at all."""
    if name not in _zone_names() or name in _NOT_ZONES:
        raise ScheduleError(_zone_problem(name))
    return load_zone(name)


def load_zone(name: str) -> ZoneInfo:
    """The zone ``name`` with no check of the name: for a version stored before
    ``zone`` refused some names, whose schedules still fire (the push checks names)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(_zone_problem(name)) from None


# In tzdata's list, and still no zone: the tz database's marker for "zone not set".
_NOT_ZONES = frozenset({"Factory"})
# Names only the host's zoneinfo files have, each the machine's own setting or a variant.
_HOST_NAMES = {
    "localtime": "this machine's own zone",
    "posixrules": "the tz database's rule for POSIX TZ strings",
}


@cache
def _zone_names() -> frozenset[str]:
    """The IANA names, from the ``tzdata`` package rather than the host: the same list
    here, in CI and in Lambda (whose image need not have zoneinfo files of its own)."""
    try:
        listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):  # pragma: no cover - tzdata is a dependency
        raise ScheduleError(
            "the tzdata package is not installed; install Podium's dependencies"
            " (pip install tzdata) to check time zone names"
        ) from None
    return frozenset(listed.split())


def _zone_problem(name: str) -> str:
    fix = "use an IANA name such as Europe/Berlin or UTC"
    shown = repr(name[:60])
    names = _zone_names()
    if name in _HOST_NAMES:
        return f"time zone {shown} is {_HOST_NAMES[name]}, not an IANA zone; {fix}"
    base = name.split("/", 1)[1] if name.startswith(("posix/", "right/")) else None
    if base is not None and base in names - _NOT_ZONES:
        return (
            f"time zone {shown} is a variant of {base!r} that only this machine's"
            f" zoneinfo files have, not an IANA name; use {base!r}"
        )
    if name in _NOT_ZONES:
        return f"time zone {shown} is the tz database's 'zone not set' marker; {fix}"
    folded = {n.lower(): n for n in names - _NOT_ZONES}
    if name.lower() in folded:
        return f"unknown time zone {shown}; names are case-sensitive: use {folded[name.lower()]!r}"
    return f"unknown time zone {shown}; {fix}"


def _field(text: str, low: int, high: int, what: str, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, slash, step_text = part.partition("/")
        step = 1
        if slash:
            # "5/" or "*/" with the step left out (a typo: "*/ 6" was meant as */6) is
            # refused, not read as "5" or "*": Scheduler would refuse it after the push.
            if not step_text:
                base = body or "*"
                every = "every N" if base == "*" else f"every N from {base}"
                raise ScheduleError(
                    f"{what}: {part!r} has no step after '/'; write {base}/N ({every})"
                    f" or {base} alone"
                )
            if not _digits(step_text) or int(step_text) < 1:
                raise ScheduleError(f"{what}: step {_short(step_text)} must be a positive number")
            step = int(step_text)
        if body == "*":
            start, end = low, high
        else:
            first, dash, last = body.partition("-")
            start = _value(first, low, high, what, names)
            end = _value(last, low, high, what, names) if dash else (high if slash else start)
            if end < start:
                raise ScheduleError(f"{what}: range {body!r} runs backwards")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() takes a superscript 2 (which int() refuses) and
    a fullwidth 5 (which it reads as 5, while Scheduler is handed the text as written).
    At most 9 of them: no field goes past 2199, and int() refuses over 4,300 digits in
    its own words."""
    return text.isascii() and text.isdigit() and len(text) <= 9


def _short(text: str) -> str:
    """``text`` quoted for a message, cut short when long (a 5,000-digit number)."""
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}... ({len(text)} characters)"


def _value(text: str, low: int, high: int, what: str, names: dict[str, int]) -> int:
    upper = text.upper()
    if upper in names:
        return names[upper]
    if not _digits(text):
        raise ScheduleError(f"{what}: {_short(text)} is not a number from {low} to {high}")
    value = int(text)
    if not low <= value <= high:
        raise ScheduleError(f"{what}: {value} is outside {low}-{high}")
    return value


@dataclass(frozen=True)
class Cron:
    expression: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    fields: tuple[str, str, str, str, str]

    @classmethod
    def parse(cls, expression: str) -> Cron:
        text = MACROS.get(expression.strip().lower(), expression.strip())
        parts = text.split()
        aws = aws_cron_problem(expression)
        if aws is not None:
            raise ScheduleError(aws)
        if len(parts) != 5:
            raise ScheduleError(
                f"cron {expression!r} must have 5 fields: minute hour day-of-month month"
                " day-of-week (e.g. '0 6 * * *'), or @hourly/@daily/@weekly/@monthly/@yearly"
            )
        minute, hour, dom, month, dow = parts
        if dom not in ("*", "?") and dow not in ("*", "?"):
            raise ScheduleError(
                f"cron {expression!r} restricts both the day of month and the day of week;"
                " EventBridge Scheduler allows one of them: set the other to *"
            )
        dom_set = _field("*" if dom == "?" else dom, 1, 31, "day of month", {})
        weekdays = _field("*" if dow == "?" else dow, 0, 7, "day of week", _DAYS)
        weekdays = frozenset(0 if d == 7 else d for d in weekdays)
        return cls(
            expression=expression,
            minutes=_field(minute, 0, 59, "minute", {}),
            hours=_field(hour, 0, 23, "hour", {}),
            days=dom_set,
            months=_field(month, 1, 12, "month", _MONTHS),
            weekdays=weekdays,
            fields=(minute, hour, dom, month, dow),
        )

    def matches_day(self, d: date) -> bool:
        return (
            d.month in self.months and d.day in self.days and (d.isoweekday() % 7) in self.weekdays
        )

    def local_times(self, start: datetime, days: int = 5 * 366) -> Iterator[datetime]:
        """Naive local times matching the cron, from ``start`` (naive, inclusive), over
        ``days`` days (five years by default: the next time of any cron is in them)."""
        day = start.date()
        first = True
        for _ in range(days):
            if self.matches_day(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        t = datetime(day.year, day.month, day.day, hour, minute)
                        if not first or t >= start:
                            yield t
            first = False
            day += timedelta(days=1)

    def local_times_back(self, start: datetime, last_day: date) -> Iterator[datetime]:
        """Naive local times matching the cron, from ``start`` (naive, inclusive) back
        to the first minute of ``last_day``, newest first."""
        day = start.date()
        hours = sorted(self.hours, reverse=True)
        minutes = sorted(self.minutes, reverse=True)
        while day >= last_day:
            if self.matches_day(day):
                for hour in hours:
                    for minute in minutes:
                        t = datetime(day.year, day.month, day.day, hour, minute)
                        if t <= start:
                            yield t
            day -= timedelta(days=1)

    def scheduler_expression(self) -> str:
        """``cron(...)`` in EventBridge Scheduler's six fields (day of week 1-7 from
        Sunday, ``?`` in the unrestricted day field, a year field)."""
        minute, hour, dom, month, dow = self.fields
        if dow in ("*", "?"):
            return f"cron({minute} {hour} {'*' if dom == '?' else dom} {month} ? *)"
        return f"cron({minute} {hour} ? {month} {_aws_weekdays(self.weekdays)} *)"


# EventBridge's (and Quartz's) day operators: L (last), W (nearest weekday), # (Nth).
_AWS_OPERATOR = re.compile(r"^(?:L|LW|L-\d+|\d+W|\d+L|[A-Z]{3}L|(?:\d+|[A-Z]{3})#\d+)$")
_FIVE_FIELDS = "minute hour day-of-month month day-of-week"


def aws_cron_problem(expression: str) -> str | None:
    """Why ``expression`` is written for EventBridge's (or Quartz's) cron rather than
    Podium's five fields, with how to write it, else None: ``cron(...)``, a year or a
    seconds field, or the L, W and # day operators, which the five fields lack. Said as
    such, rather than as "'L' is not a number from 1 to 31" or "must have 5 fields"."""
    text = expression.strip()
    wrapped = text.lower().startswith("cron(") and text.endswith(")")
    if wrapped:
        text = text[5:-1].strip()
    parts = text.split()
    said = f"cron {_short(expression)}"
    for part in (p.upper() for field in parts for p in field.split(",")):
        if _AWS_OPERATOR.match(part):
            return (
                f"{said}: {part!r} is an EventBridge/Quartz cron operator ({_operator(part)})"
                f" that Podium's 5-field cron ({_FIVE_FIELDS}) does not take; it has no form"
                " in the five fields, which take numbers, ranges, lists and steps (1-5,"
                " 1,15, */2) and names (MON-FRI, JAN-DEC)"
            )
    # A token cut short ("*/ 6": a space typed after '/') is a typo in five fields, not
    # a sixth field: the five-field parser names it (a fix offered here would not parse).
    cut = next((part for part in parts if part.endswith(("/", "-", ","))), None)
    if cut is not None and len(parts) != 5:
        joined = f"{cut}{parts[parts.index(cut) + 1]}" if cut != parts[-1] else f"{cut}N"
        missing = "no step after '/'" if cut.endswith("/") else f"nothing after {cut[-1]!r}"
        return (
            f"{said}: {cut!r} has {missing}: write it without a space, e.g. {joined!r}"
            f" (Podium's cron has 5 fields: {_FIVE_FIELDS})"
        )
    fields = _five_of(parts)
    if fields is None:
        if wrapped:
            return f"{said}: write the 5 fields ({_FIVE_FIELDS}) alone, without 'cron(...)'"
        return None
    five, dropped = fields
    fix = f"leave out {dropped}: '{five}'"
    year = parts[-1]
    if dropped != "the seconds" and year not in ("*", "?"):
        fix = f"a year ({year!r}) has no 5-field form; leave out {dropped}: '{five}'"
    if any(c.isdigit() for c in five.split()[4]):
        fix += (
            " (EventBridge and Quartz number the days of the week 1-7 from Sunday, Podium"
            " 0-6 from Sunday: write them as SUN-SAT)"
        )
    form = "EventBridge's 6-field cron" if dropped == "the year" else "a Quartz cron"
    return (
        f"{said} is {form}{' in cron(...)' if wrapped else ''}; Podium's cron has 5 fields"
        f" ({_FIVE_FIELDS}), and writes EventBridge's from them: {fix}"
    )


def _operator(part: str) -> str:
    if "#" in part:
        return "the Nth such weekday of the month"
    if part == "LW":
        return "the last weekday of the month"
    if part.endswith("W"):
        return "the weekday nearest that day"
    if part == "L" or part.startswith("L-"):
        return "the last day of the month"
    return "the last such weekday of the month"


def _five_of(parts: list[str]) -> tuple[str, str] | None:
    """EventBridge's 6 fields (a year last) or Quartz's 6 or 7 (seconds first, ``?`` in
    a day field, a year last): Podium's 5 fields from them, and what was left out."""
    if len(parts) == 6 and parts[5] == "?":  # Quartz without a year: seconds first
        fields, dropped = parts[1:6], "the seconds"
    elif len(parts) == 6:
        fields, dropped = parts[:5], "the year"
    elif len(parts) == 7:
        fields, dropped = parts[1:6], "the seconds and the year"
    else:
        return None
    minute, hour, dom, month, dow = fields
    five = [minute, hour, "*" if dom == "?" else dom, month, "*" if dow == "?" else dow]
    return " ".join(five), dropped


def _aws_weekdays(weekdays: frozenset[int]) -> str:
    """The parsed days (0 = Sunday) in Scheduler's numbers (1-7 from Sunday), written
    out from the set rather than translated token by token: Unix's 7 is Sunday and
    Scheduler's is Saturday, so a text range such as ``5-7`` (Friday to Sunday) has no
    Scheduler range, nor has ``1/2`` (Monday, Wednesday, Friday, Sunday). Runs of three
    or more days become ranges (``1-5`` is ``2-6``)."""
    days = sorted(d + 1 for d in weekdays)
    parts: list[str] = []
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{days[i]}-{days[j]}")
        else:
            parts.extend(str(d) for d in days[i : j + 1])
        i = j + 1
    return ",".join(parts)


def exists(local: datetime, tz: ZoneInfo) -> bool:
    """False for a local time skipped by a spring-forward change."""
    aware = local.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return back == local


def cron_times(
    cron: Cron, tz_name: str, after_ms: int, until_ms: int, *, limit: int | None = None
) -> list[int]:
    """The times the cron fires in (after, until], epoch ms, as Scheduler fires them;
    the first ``limit`` of them when there are more."""
    tz = load_zone(tz_name)
    start_utc = datetime.fromtimestamp(after_ms / 1000, UTC) + timedelta(minutes=1)
    start_local = start_utc.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    # A repeated (fall-back) hour: start from the earlier wall clock, so nothing between
    # is missed; times at or before ``after`` are dropped below.
    start_local -= timedelta(hours=1)
    out: list[int] = []
    seen: set[int] = set()
    days = max(0, until_ms - after_ms) // 86_400_000 + 3  # the whole range, not 5 years
    for local in cron.local_times(start_local, days):
        if not exists(local, tz):
            continue  # skipped by the spring-forward change: does not run
        at = int(local.replace(tzinfo=tz, fold=0).timestamp() * 1000)  # fold 0: runs once
        if at > until_ms:
            break
        if at > after_ms and at not in seen:
            seen.add(at)
            out.append(at)
            if limit is not None and len(out) >= limit:
                break
    return out


# How far past ``until``'s wall clock the search back starts: a local time that late can
# still be at or before ``until`` when a fall-back change (at most 2 hours, Troll's) lies
# between; the times after ``until`` are dropped as they come.
_BACK_MARGIN = timedelta(hours=2)


def last_cron_times(
    cron: Cron, tz_name: str, after_ms: int, until_ms: int, count: int
) -> list[int]:
    """The last ``count`` times of ``cron_times(cron, tz_name, after_ms, until_ms)``,
    oldest first, found by searching back from ``until``: a catch-up after a long pause
    looks at about as many local times as it keeps, not at every one of the pause (a
    per-minute cron off for a year has half a million)."""
    if count <= 0 or until_ms <= after_ms:
        return []
    tz = load_zone(tz_name)
    until_local = datetime.fromtimestamp(until_ms / 1000, tz).replace(tzinfo=None)
    start = until_local.replace(second=0, microsecond=0) + _BACK_MARGIN
    # A day before ``after``'s: by then every local time is at or before ``after``
    # (a cron that never fires in the gap stops there, not at the start of time).
    last_day = datetime.fromtimestamp(after_ms / 1000, tz).date() - timedelta(days=1)
    out: list[int] = []
    seen: set[int] = set()
    for local in cron.local_times_back(start, last_day):
        if not exists(local, tz):
            continue  # skipped by the spring-forward change: does not run
        at = int(local.replace(tzinfo=tz, fold=0).timestamp() * 1000)  # as cron_times
        if at > until_ms:
            continue
        if at <= after_ms:
            break  # a local time's first occurrence only moves back as the clock does
        if at not in seen:
            seen.add(at)
            out.append(at)
            if len(out) >= count:
                break
    out.reverse()
    return out


def next_cron_time(cron: Cron, tz_name: str, after_ms: int) -> int | None:
    horizon = after_ms + MAX_SEARCH_MINUTES * 60_000
    tz = load_zone(tz_name)
    start_utc = datetime.fromtimestamp(after_ms / 1000, UTC) + timedelta(minutes=1)
    start_local = start_utc.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    start_local -= timedelta(hours=1)
    for local in cron.local_times(start_local):
        if not exists(local, tz):
            continue
        at = int(local.replace(tzinfo=tz, fold=0).timestamp() * 1000)
        if at > horizon:
            return None
        if at > after_ms:
            return at
    return None


def check_fires(cron: Cron, tz_name: str) -> None:
    """Refuse a cron that never fires (Scheduler would take it, and nothing would run)."""
    if next_cron_time(cron, tz_name, _FIRES_FROM_MS) is None:
        raise ScheduleError(
            f"cron {cron.expression!r} never fires: none of its months has its day of month"
            " (such as 31 February); change the day of month or the month"
        )


def parse_rate(text: str) -> int:
    """``15m``, ``2h``, ``1d`` (or ``15 minutes``) as minutes, from 1 minute to 365 days."""
    match = _RATE.match(str(text))
    if not match:
        raise ScheduleError(f"rate {text!r}: write a number and a unit, such as 15m, 2h or 1d")
    digits, unit = match.group(1).lstrip("0") or "0", match.group(2)[0]
    # Too long to be a year of minutes is not read: int() refuses over 4,300 digits.
    n = int(digits) if len(digits) <= 9 else MAX_RATE_MINUTES + 1
    minutes = n * {"m": 1, "h": 60, "d": 1440}[unit]
    if minutes > MAX_RATE_MINUTES:
        raise ScheduleError(
            f"rate {text!r} is longer than {MAX_RATE_MINUTES // 1440} days; write a shorter"
            " rate, or a cron for a rarer schedule ('0 0 1 1 *' is yearly)"
        )
    if minutes < MIN_RATE_MINUTES:
        raise ScheduleError(f"rate {text!r} is shorter than {MIN_RATE_MINUTES} minute")
    return minutes


def rate_expression(minutes: int) -> str:
    if minutes % 1440 == 0:
        n, unit = minutes // 1440, "day"
    elif minutes % 60 == 0:
        n, unit = minutes // 60, "hour"
    else:
        n, unit = minutes, "minute"
    return f"rate({n} {unit}{'s' if n > 1 else ''})"


def rate_times(
    minutes: int, anchor_ms: int, after_ms: int, until_ms: int, *, limit: int | None = None
) -> list[int]:
    """A rate's times in (after, until]: every ``minutes`` from ``anchor`` (when the
    schedule was made); the first ``limit`` of them when there are more."""
    period = minutes * 60_000
    if until_ms <= after_ms:
        return []
    k = max(0, (after_ms - anchor_ms) // period + 1)
    out: list[int] = []
    at = anchor_ms + k * period
    while at <= until_ms and (limit is None or len(out) < limit):
        if at > after_ms:
            out.append(at)
        at += period
    return out


def last_rate_times(
    minutes: int, anchor_ms: int, after_ms: int, until_ms: int, count: int
) -> list[int]:
    """The last ``count`` times of ``rate_times(minutes, anchor_ms, after_ms, until_ms)``,
    oldest first, by arithmetic (none of the others is computed)."""
    period = minutes * 60_000
    if count <= 0 or until_ms <= after_ms or until_ms < anchor_ms:
        return []
    first = max(0, (after_ms - anchor_ms) // period + 1)  # the first k with a time > after
    last = (until_ms - anchor_ms) // period  # the last k with a time <= until
    return [anchor_ms + k * period for k in range(max(first, last - count + 1), last + 1)]


def logical_date(at_ms: int, tz_name: str) -> str:
    """The date a scheduled time is for, in the trigger's time zone."""
    return datetime.fromtimestamp(at_ms / 1000, load_zone(tz_name)).date().isoformat()


def iso(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> int:
    """An ISO 8601 time (Scheduler's ``<aws.scheduler.scheduled-time>``) as epoch ms.
    Raises ValueError for one that is not, or whose instant falls outside the years
    1-9999 in UTC (``9999-12-31T23:59:59-01:00``): no date could be told of it."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} falls outside the years 1-9999 in UTC") from None
    return int(value.timestamp() * 1000)


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def trigger_run_id(workflow: str, trigger: str, key: str, at_ms: int) -> str:
    """A run id that one (workflow, trigger, scheduled time or event id) always gets, so
    a trigger firing twice starts one run: a ULID whose time part is ``at_ms`` (run ids
    still sort by time) and whose random part is a digest of the key."""
    digest = hashlib.sha256(f"{workflow}\x00{trigger}\x00{key}".encode()).digest()
    value = (max(0, at_ms) << 80) | (int.from_bytes(digest[:10], "big") & ((1 << 80) - 1))
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))
