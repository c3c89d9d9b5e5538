"""Reading the text files a user hands the CLI (workflows, podium.toml, expression
cases): every way one cannot be read becomes one message that names the file."""

from __future__ import annotations

from pathlib import Path


class UnreadableFile(ValueError):
    """A file that cannot be read as UTF-8 text; the message names it and the fix."""


def read_text(path: Path) -> str:
    """The file's text; UnreadableFile when it is missing, a directory, unreadable or
    not UTF-8 (FileNotFoundError passes through for callers that allow a missing file)."""
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        raise
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"cannot read {path}: it is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror}") from None
