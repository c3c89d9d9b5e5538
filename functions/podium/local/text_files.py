"""Reading the text files a user hands the CLI (workflows, podium.toml, expression
cases): every way one cannot be read becomes one message that names the file."""

from __future__ import annotations

from pathlib import Path

# The most read from one file: a workflow's JSON may be 5 MiB (service/workflows.py,
# MAX_DEFINITION_JSON_BYTES), and its YAML, with comments and indentation, somewhat more.
# A bigger file (or an endless one, /dev/zero) is a mistake, refused before it fills memory.
MAX_TEXT_FILE_BYTES = 16 * 1024 * 1024


class UnreadableFile(ValueError):
    """A file that cannot be read as UTF-8 text; the message names it and the fix."""


def read_text(path: Path, limit: int = MAX_TEXT_FILE_BYTES) -> str:
    """The file's text (newlines read as ``Path.read_text`` reads them); UnreadableFile
    when it is missing, a directory, unreadable, not UTF-8 or over ``limit`` bytes
    (FileNotFoundError passes through for callers that allow a missing file)."""
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > limit:
        raise UnreadableFile(
            f"cannot read {path}: it is over {limit:,} bytes, the most podium reads from one"
            " file (a workflow version's JSON is at most 5 MiB): name the right file, or"
            " split the workflow into smaller ones"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"cannot read {path}: it is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # universal newlines
