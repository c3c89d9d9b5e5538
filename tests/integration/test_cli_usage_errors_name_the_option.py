"""Hostile and mistaken command lines, as a user's shell runs them (a new process each, a
local home under tmp_path). Each used to end in a traceback, a memory error, or a line
that named no option (or an API body field nobody typed); each now says, in a line, the
option or file that was wrong and what to write instead."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration import test_cli_iteration_paths_in_show_logs_replay as iteration_paths
from tests.integration.test_cli_local import podium

looped = iteration_paths.looped  # the fixture: a home with one failed run of a loop


def test_an_endless_workflow_file_is_refused_not_a_memory_error(tmp_path: Path) -> None:
    """``podium validate /dev/zero`` (or a huge file named by mistake) read the whole file
    into memory (local/text_files.read_text had no bound) until the process died: under a
    2 GiB address-space limit it ended in a MemoryError traceback; without one the kernel
    killed it. The API refuses a definition past its size limit; the CLI's reading now
    stops near there too: exit 2, one line naming the file and its limit."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PODIUM_CONFIG", "PODIUM_PROFILE", "PODIUM_HOME")
    }
    env.update(PODIUM_HOME=str(tmp_path / "home"), COLUMNS="200", HOME=str(tmp_path))

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))

    done = subprocess.run(
        [sys.executable, "-m", "podium.cli.main", "validate", "/dev/zero"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        preexec_fn=limit_memory,
    )
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr, done.stderr[-600:]
    assert done.returncode == 2, done.stderr[-600:]
    assert "/dev/zero" in done.stderr and "16,777,216 bytes" in done.stderr, done.stderr


def test_a_file_within_the_limit_reads_as_before(tmp_path: Path) -> None:
    """The bounded read keeps what the whole-file read did: Windows and old Mac line ends
    read as newlines, and a file that is not UTF-8 is named with the byte."""
    from podium.local.text_files import UnreadableFile, read_text

    crlf = tmp_path / "crlf.yaml"
    crlf.write_bytes(b"name: a\r\nsteps: []\rx: 1\n")
    assert read_text(crlf) == "name: a\nsteps: []\nx: 1\n"
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(UnreadableFile, match="not UTF-8 text \\(byte 9\\)"):
        read_text(latin)
    with pytest.raises(UnreadableFile, match="over 8 bytes"):
        read_text(crlf, limit=8)


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "prune", "--older-than", "9" * 5000 + "d", "--dry-run"),
        ("runs", "list", "--since", "9" * 5000 + "d"),
        ("runs", "list", "--since", "\u0663d"),
    ],
    ids=["prune --older-than", "list --since", "list --since arabic-indic digit"],
)
def test_a_duration_too_long_to_read_is_a_usage_error(
    looped: tuple[Path, str], args: tuple[str, ...]
) -> None:
    """A duration of 5,000 digits (``--older-than 999...9d``) matched the duration pattern
    and went to int(), which refuses more than 4,300 digits: a ValueError traceback, exit 1
    (cli/local_commands.parse_since). ``\\d`` took other scripts' digits too (``٣d``).
    Now a duration is 1 to 24 ASCII digits (13 already reach back past 1970: everything)
    and anything else a usage error (exit 2) naming the option."""
    home, _ = looped
    done = podium(home, *args)
    assert "Traceback" not in done.stderr, done.stderr[-600:]
    assert done.returncode == 2, done.stderr[-600:]
    assert args[2] in done.stderr, done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "prune", "--older-than", "yesterday", "--dry-run"),
        ("runs", "list", "--since", "yesterday"),
        ("runs", "list", "--status", "bogus"),
    ],
    ids=["--older-than", "--since", "--status"],
)
def test_a_bad_time_or_status_names_its_option(
    looped: tuple[Path, str], args: tuple[str, ...]
) -> None:
    """``--older-than yesterday`` said only "Invalid value: 'yesterday': use a duration
    ago (30m, 2h, 7d) or a date/time": the BadParameter was raised in the command's body,
    so click knew no parameter to name (cli/local_commands.parse_since and
    parse_statuses). On a command with several such options the user could not tell
    which one. The message now names the option (--older-than, --since, --status)."""
    home, _ = looped
    done = podium(home, *args)
    assert done.returncode == 2, done.stderr
    assert args[2] in done.stderr, done.stderr


def test_a_local_restart_refusal_names_the_from_option_not_the_api_body_field(
    looped: tuple[Path, str],
) -> None:
    """Locally, ``podium runs restart RUN --from a//b`` said "body.from: step path 'a//b':
    ...": the API request's field, which the user never wrote (no body was sent;
    cli/action_commands._refused printed the service's issue path as it was).
    ``podium backfill`` names its options (trigger_commands._OPTIONS), and so does this
    now: ``--from``, and no ``body.`` place."""
    home, run_id = looped
    done = podium(home, "runs", "restart", run_id, "--from", "a//b")
    assert done.returncode in (1, 2), done.stderr
    assert "body.from" not in done.stderr, done.stderr
    assert "--from" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "args", [("--limit", "3"), ("--failed-only",), ("--next", "abc")], ids=lambda a: a[0]
)
def test_paging_options_without_a_step_are_a_usage_error(
    looped: tuple[Path, str], args: tuple[str, ...]
) -> None:
    """``podium runs show RUN --limit 3`` (or --next, --failed-only) without --step showed
    the whole run, the option silently ignored: they page a loop step's iterations. Now
    exit 2, naming the options and the --step they need."""
    home, run_id = looped
    done = podium(home, "runs", "show", run_id, *args)
    assert done.returncode == 2, done.stderr
    assert "--step" in done.stderr and args[0] in done.stderr, done.stderr
