"""Which Lambda functions ``lambda`` steps may invoke: the construct's
``allowed_function_arns`` (``PODIUM_ALLOWED_FUNCTIONS``), matched the way IAM matches
the grant made from the same list, so a step the engine lets through is one IAM allows.

An entry is an ARN, a partial ARN (``123456789012:function:name``) or a name, each
with an optional qualifier (``name:prod``) and ``*``/``?`` wildcards (``etl-*``,
``...:function:name:*`` for every alias and version); ``*`` alone allows any. A step's
``function`` is written the same ways. They are compared by function name and
qualifier, and by region where both give one. The account is not compared: a name
always means this account's function, and IAM, granted on the full ARNs, still refuses
another account's function the list does not name.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase


def _parts(ref: str) -> tuple[str | None, str]:
    """(region or None, ``name[:qualifier]``) of a function reference."""
    pieces = ref.split(":")
    if ref.startswith("arn:") and len(pieces) >= 7 and pieces[5] == "function":
        return pieces[3] or None, ":".join(pieces[6:])
    if len(pieces) >= 3 and pieces[1] == "function":  # account:function:name[:qualifier]
        return None, ":".join(pieces[2:])
    return None, ref


@dataclass(frozen=True)
class FunctionAllowlist:
    entries: tuple[str, ...]

    @classmethod
    def parse(cls, setting: str) -> FunctionAllowlist | None:
        """None: any function (``*``); else the comma-separated entries (none: none)."""
        entries = tuple(e.strip() for e in setting.split(",") if e.strip())
        if "*" in entries:
            return None
        return cls(entries)

    def __contains__(self, function: object) -> bool:
        if not isinstance(function, str):
            return False
        region, name = _parts(function)
        for entry in self.entries:
            allowed_region, allowed_name = _parts(entry)
            if not fnmatchcase(name, allowed_name):
                continue
            if region is None or allowed_region is None or fnmatchcase(region, allowed_region):
                return True
        return False
