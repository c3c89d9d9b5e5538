"""The console's times and durations, as its own functions (from app.js) print them in
a browser far from UTC: the date of a time not today was UTC's next to the local clock
time (a day off), and a duration rounded its seconds after splitting ("1 m 60 s")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

APP = Path(__file__).resolve().parents[2] / "functions/podium/console/static/app.js"


def _formatters() -> str:
    """fmtTime and fmtDur (with what sits between them), unchanged from app.js."""
    src = APP.read_text()
    start = src.index("function fmtTime(ms)")
    helper = src.rfind("const pad2", 0, start)  # declared just above them, if anywhere
    body = src[start if helper == -1 else helper : src.index("function ago(")]
    return f"(() => {{ {body}; return {{ fmtTime, fmtDur }}; }})()"


@pytest.fixture
def far_east(browser: Any) -> Iterator[Any]:
    context = browser.new_context(timezone_id="Pacific/Kiritimati")  # UTC+14
    yield context.new_page()
    context.close()


def test_a_time_not_today_is_shown_with_its_local_date(far_east: Any) -> None:
    shown = far_east.evaluate(
        f"""() => {{
          const {{ fmtTime }} = {_formatters()};
          return [fmtTime(Date.UTC(2020, 2, 1, 15, 0, 0)), fmtTime(Date.UTC(2020, 2, 1, 9, 30, 5))];
        }}"""
    )
    # 15:00 UTC on March 1st is 05:00 on March 2nd in Kiritimati; 09:30 is 23:30 on the 1st.
    assert shown == ["2020-03-02 05:00:00", "2020-03-01 23:30:05"]


def test_durations_round_before_they_split(far_east: Any) -> None:
    cases = {
        0: "0 ms",
        999.4: "999 ms",
        999.6: "1.0 s",
        9_949: "9.9 s",
        9_950: "10 s",
        59_400: "59 s",
        59_600: "1 m 0 s",
        119_600: "2 m 0 s",
        3_599_400: "59 m 59 s",
        3_599_600: "1 h 0 m",
        5_400_000: "1 h 30 m",
    }
    shown = far_east.evaluate(
        f"""(values) => {{
          const {{ fmtDur }} = {_formatters()};
          return values.map((ms) => fmtDur(ms));
        }}""",
        list(cases),
    )
    assert dict(zip(cases, shown, strict=True)) == cases


def test_times_ago_round_before_they_choose_their_unit(far_east: Any) -> None:
    """ago() chose its unit before rounding: 59.6 s ago was "60 s ago", 59.6 min "60 min".
    It counts to the ``now`` it is given (the server's), not the browser's clock."""
    src = APP.read_text()
    body = src[src.index("function ago(") : src.index("const label")]
    now = 1_800_000_000_000
    cases = {
        0: "0 s ago",
        59_400: "59 s ago",
        59_600: "1 min ago",
        3_569_000: "59 min ago",
        3_570_000: "1 h ago",
        82_800_000: "23 h ago",
        84_600_000: "1 d ago",  # 23.5 h
        -5_000: "0 s ago",  # a clock a little behind the server's
    }
    shown = far_east.evaluate(
        f"""([now, values]) => {{
          const ago = (() => {{ {body}; return ago; }})();
          return values.map((ms) => ago(now - ms, now));
        }}""",
        [now, list(cases)],
    )
    assert dict(zip(cases, shown, strict=True)) == cases
