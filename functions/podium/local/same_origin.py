"""Which browser requests a local server (``podium dev``, ``podium console``) takes.

A page on any site can send the developer's browser to ``127.0.0.1``: a "simple" POST
(``text/plain``) goes without a CORS preflight, and a DNS-rebinding name can even read
the answers. So a server bound to the loopback answers only requests addressed to a
loopback name (``Host``), and takes a write only from its own origin (``Origin``, which
browsers send with every cross-site write). A server bound to another address has been
opened to the network on purpose: only the origin check applies there.
"""

from __future__ import annotations

from collections.abc import Mapping

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_LOOPBACK_BINDS = ("127.0.0.1", "localhost", "::1", "[::1]")


def refusal(
    method: str, headers: Mapping[str, str], *, port: int, bound: str = "127.0.0.1"
) -> str | None:
    """Why a request is refused (a message naming the fix), or None."""
    lower = {k.lower(): v for k, v in headers.items()}
    host = lower.get("host", "")
    if bound in _LOOPBACK_BINDS and host not in {f"{n}:{port}" for n in LOOPBACK_NAMES}:
        return f"unexpected Host {host[:100]!r}: open http://127.0.0.1:{port}/"
    origin = lower.get("origin")
    if method not in ("GET", "HEAD") and origin is not None and origin != f"http://{host}":
        return f"a write from another origin ({origin[:100]!r}) is refused"
    return None
