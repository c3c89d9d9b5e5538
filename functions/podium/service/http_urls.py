"""Splitting an http step's URL into what the allow-list and the transport need. Kept out
of core/ (core imports no I/O-adjacent modules such as urllib, by the project's rule);
the rules that judge the parts live in core/engine/http_rules.py."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from podium.core.engine.http_rules import Target

# The characters a request target keeps as they are (RFC 3986's reserved and unreserved
# ones, and '%' of an escape already made).
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"


def parse_url(url: str) -> Target | str:
    """The URL's parts, or why it cannot be called."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"'{url}' is not a valid URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return f"'{url}' is not an http:// or https:// URL"
    if not parts.hostname:
        return f"'{url}' names no host"
    if parts.username or parts.password:
        return "credentials in the URL are refused: use auth (a Secrets Manager secret)"
    try:  # a name in another script as its ASCII (IDNA) form, as a browser sends it
        host = parts.hostname.lower()
        host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        return f"'{url}' names a host that is not a valid domain name"
    default_port = 443 if parts.scheme == "https" else 80
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    # What HTTP cannot carry as it is (a space, a character outside ASCII, a line break
    # from a rendered value) is percent-encoded, as requests and browsers do; what is
    # encoded already (and the URL's own delimiters) stays as it is.
    path = quote(path, safe=_URL_SAFE)
    return Target(parts.scheme, host, port or default_port, path)
