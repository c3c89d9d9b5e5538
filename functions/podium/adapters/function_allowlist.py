"""Which Lambda functions ``lambda`` steps may invoke: the construct's
``allowed_function_arns`` (``PODIUM_ALLOWED_FUNCTIONS``), matched the way IAM matches
the grant made from the same list, so a step the engine lets through is one IAM allows.

An entry is an ARN, a partial ARN (``123456789012:function:name``) or a name, each
with an optional qualifier (``name:prod``) and ``*``/``?`` wildcards (``etl-*``,
``...:function:name:*`` for every alias and version); ``*`` allows any function of the
deployment's region (the entries beside it theirs too). A step's ``function`` is written
the same ways. They are compared by function name and qualifier, by region, and by
account where both give one.

The region: the construct grants an entry without one (a name, a partial ARN, ``*``) in
the stack's region only, and a step's function without one is invoked there, so both
mean the deployment's own region (``AWS_REGION``, which bootstrap.py passes). A step
naming another region's function that only such an entry matches is refused here
(``Podium.FunctionNotAllowed``) rather than by Lambda (``AccessDeniedException``): list
that function's full ARN. With no region known (no ``AWS_REGION``), an entry or a step
without one matches any region.

The account: a name means this account's function, which this process does not know;
IAM, granted on the full ARNs, still refuses another account's function the list does
not name.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class _Ref:
    region: str | None
    account: str | None
    name: str  # name[:qualifier]


def _parts(ref: str) -> _Ref:
    """Region, account (None when not given) and ``name[:qualifier]`` of a function
    reference."""
    pieces = ref.split(":")
    if ref.startswith("arn:") and len(pieces) >= 7 and pieces[5] == "function":
        return _Ref(pieces[3] or None, pieces[4] or None, ":".join(pieces[6:]))
    if len(pieces) >= 3 and pieces[1] == "function":  # account:function:name[:qualifier]
        return _Ref(None, pieces[0] or None, ":".join(pieces[2:]))
    return _Ref(None, None, ref)


def _same(given: str | None, allowed: str | None) -> bool:
    """Unknown on either side matches; ``allowed`` may hold wildcards."""
    return given is None or allowed is None or fnmatchcase(given, allowed)


@dataclass(frozen=True)
class FunctionAllowlist:
    entries: tuple[str, ...]
    # The deployment's region: where a name without one is granted and invoked.
    region: str | None = None

    @classmethod
    def parse(cls, setting: str, *, region: str | None = None) -> FunctionAllowlist | None:
        """None: any function (``*`` with no region known); else the comma-separated
        entries (none: none). ``region``: the deployment's (bootstrap passes
        ``AWS_REGION``, which Lambda sets in every function and its clients invoke in)."""
        region = region or None
        entries = tuple(e.strip() for e in setting.split(",") if e.strip())
        if "*" in entries and not region:
            return None  # ``*`` then matches any region: the other entries add nothing
        # IAM grants ``*`` as every function of the stack's account and region, and the
        # entries beside it (another region's functions) as listed: all are kept.
        return cls(entries, region)

    def __contains__(self, function: object) -> bool:
        if not isinstance(function, str):
            return False
        given = _parts(function)
        region = given.region or self.region
        for entry in self.entries:
            allowed = _parts(entry)
            if not fnmatchcase(given.name, allowed.name):
                continue
            if _same(region, allowed.region or self.region) and _same(
                given.account, allowed.account
            ):
                return True
        return False
