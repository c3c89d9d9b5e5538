"""What the CLI reads from its options: JSON nested too deep (``-p``, ``--bind``,
``--payload``, ``--success``, ``--event``), a double written as Python reads it but no
person does (``1_0``), and a ``-p`` or ``--tag`` key given twice. Each is refused with a
line naming the option, never a traceback nor a silent guess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from podium.cli.main import app

WORKFLOW = """\
name: typed
params:
  rows: {type: list, default: []}
  extra: {type: map, default: {}}
  ratio: {type: double, default: 1.0}
  count: {type: int, default: 1}
steps:
  - {id: a, type: noop}
"""
# Past Python's recursion limit: json.loads raised RecursionError. The API and
# definitions refuse more than 64 levels (core/dsl/load.py MAX_DOCUMENT_DEPTH).
DEEP = "[" * 50_000 + "]" * 50_000
OVER_64 = "[" * 65 + "]" * 65
AT_64 = "[" * 64 + "]" * 64


def podium(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def said(result: Result) -> str:
    return " ".join(result.output.split())


def refused(result: Result, code: int, words: str) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == code, result.output[-2000:]
    assert words in said(result), result.output[-2000:]


@pytest.fixture
def wf(tmp_path: Path) -> Path:
    path = tmp_path / "typed.yaml"
    path.write_text(WORKFLOW)
    return path


def home_of(wf: Path) -> str:
    return str(wf.parent / "home")


TOO_DEEP = "nested more than 64 levels deep; flatten it"


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["run", "{wf}", "-p", f"rows={DEEP}"], 2, f"-p rows: {TOO_DEEP}"),
        (["run", "{wf}", "-p", f"rows={OVER_64}"], 2, f"-p rows: {TOO_DEEP}"),
        (["run", "{wf}", "-p", f'extra={{"a": {DEEP}}}'], 2, f"-p extra: {TOO_DEEP}"),
        (["signal", "send", "s", "--payload", DEEP], 2, f"--payload: {TOO_DEEP}"),
        (["callback", "tok", "--success", DEEP], 2, f"--success: {TOO_DEEP}"),
        (["run", "{wf}", "--event", "{event}"], 1, "the event nests more than 64 levels"),
    ],
    ids=["p-deep", "p-over-64", "p-map", "payload", "success", "event"],
)
def test_json_nested_too_deep_is_refused_naming_the_option(
    wf: Path, args: list[str], code: int, words: str
) -> None:
    event = wf.parent / "event.json"
    event.write_text(DEEP)
    filled = [a.format(wf=wf, event=event) if a.startswith("{") else a for a in args]
    refused(podium(*filled, "--home", home_of(wf)), code, words)


def test_json_nested_too_deep_in_expr_is_refused(wf: Path) -> None:
    refused(podium("expr", "x", "--bind", f"x={DEEP}"), 2, f"--bind x: {TOO_DEEP}")
    cases = wf.parent / "cases.json"
    cases.write_text(DEEP)
    refused(podium("expr", "--cases", str(cases)), 2, "JSON nested too deep to read")


def test_json_nested_64_levels_is_fine(wf: Path) -> None:
    ran = podium("run", str(wf), "--home", home_of(wf), "-p", f"rows={AT_64}", "--json")
    assert ran.exit_code == 0, ran.output[-2000:]


def test_a_double_is_a_number_as_people_write_it(wf: Path) -> None:
    """float() takes "1_0" (10.0) and digits of other scripts ("١٢" is 12.0): the run
    started with a number nobody wrote. The int path already refused them."""
    home = home_of(wf)
    for raw in ("1_0", "١٢", "1__0", "nan"):
        refused(
            podium("run", str(wf), "--home", home, "-p", f"ratio={raw}"),
            1,
            f"params.ratio: expected double (a number such as 0.5), got string '{raw}'",
        )
    for raw in ("1_0", "١٢"):
        refused(
            podium("run", str(wf), "--home", home, "-p", f"count={raw}"),
            1,
            f"params.count: expected int (an integer such as 42), got string '{raw}'",
        )
    for raw, value in (("-1.5e3", -1500.0), ("2", 2.0), (".5", 0.5), (" 3.25 ", 3.25)):
        ran = podium("run", str(wf), "--home", home, "-p", f"ratio={raw}", "--json")
        assert ran.exit_code == 0, ran.output[-2000:]
        assert json.loads(ran.stdout)["run"]["params"]["ratio"] == value


def test_a_key_given_twice_is_refused_not_the_last_one_kept(wf: Path) -> None:
    home = home_of(wf)
    twice = "given twice; give each param once"
    refused(
        podium("run", str(wf), "--home", home, "-p", "count=1", "-p", "count=2"),
        2,
        f"-p count: {twice}",
    )
    refused(
        podium("run", str(wf), "--home", home, "--tag", "team=a", "--tag", "team=b"),
        2,
        "--tag team: given twice; give each tag once",
    )
    refused(podium("signal", "send", "s", "--home", home, "-p", "a=1", "-p", "a=2"), 2, "-p a:")
    # Remote commands share the parsing: refused before any request (nothing listens).
    nowhere = ["--endpoint", "http://127.0.0.1:9"]
    refused(podium("start", "typed", *nowhere, "-p", "a=1", "-p", "a=2"), 2, f"-p a: {twice}")
    refused(podium("start", "typed", *nowhere, "--tag", "k=1", "--tag", "k=1"), 2, "--tag k:")
    # Locally, a restart's params too.
    ran = podium("run", str(wf), "--home", home, "--json")
    rid = json.loads(ran.stdout)["run"]["run_id"]
    refused(
        podium("runs", "restart", rid, "--home", home, "-p", "count=1", "-p", "count=1"),
        2,
        f"-p count: {twice}",
    )


def test_signal_params_with_leading_zeros_stay_strings() -> None:
    """`-p zip=02134` was sent as the int 2134: the zero was lost, and a trigger matching
    the string "02134" never fired."""
    from podium.cli.signal_command import parse_signal_params

    assert parse_signal_params(["zip=02134", "n=42", "neg=-7", "z=0", "m=-0"]) == {
        "zip": "02134",
        "n": 42,
        "neg": -7,
        "z": 0,
        "m": "-0",
    }


def test_a_local_signal_send_records_the_cli_as_its_source(tmp_path: Path) -> None:
    """`podium signal send` on the local home recorded its signal's source as `api`
    (the API's default): the timeline and `--json` said it came through the API. It is
    `cli`, as the API's signals are `api` and emits `emit`."""
    home = str(tmp_path / "home")
    sent = podium("signal", "send", "ready", "--home", home, "-p", "day=1", "--json")
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["source"] == "cli"


@pytest.mark.parametrize("digits", ["9223372036854775808", "9" * 26, "-" + "9" * 30])
def test_a_signal_param_past_int64_is_refused_however_long(tmp_path: Path, digits: str) -> None:
    """`-p n=9223372036854775808` was refused as out of the int64 range, while a longer
    integer (26 digits) was sent silently as a string. Both are usage errors that say how
    to send a string (quote it)."""
    sent = podium("signal", "send", "s", "--home", str(tmp_path / "h"), "-p", f"n={digits}")
    assert sent.exit_code == 2, sent.output
    assert "past the int64 range; quote it" in sent.output
