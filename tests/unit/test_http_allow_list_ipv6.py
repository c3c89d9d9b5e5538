"""the http step's pure allow-list rule (core/engine/http_rules.py
``host_allowed``) with IPv6 addresses.

Found by a review; each test failed before its fix (its docstring says what was
wrong and what is right)."""

from __future__ import annotations

from podium.core.engine.http_rules import Target, host_allowed
from podium.local.stand_ins import LOOPBACK_HOSTS
from podium.service.http_urls import parse_url


def _target(url: str) -> Target:
    parsed = parse_url(url)
    assert isinstance(parsed, Target), parsed
    return parsed


def test_the_ipv6_loopback_entry_allows_the_ipv6_loopback() -> None:
    """host_allowed (http_rules.py:41) splits every entry at its first ':' into
    host and port, so the loopback entry "::1" (stand_ins.LOOPBACK_HOSTS, documented
    as allowed locally) is read as host "" with port ":1" and skipped: http://[::1]/
    is never allowed. Right: an entry with more than one ':' (unbracketed) is an
    IPv6 address with no port."""
    assert "::1" in LOOPBACK_HOSTS
    assert host_allowed(_target("http://[::1]:8080/x"), LOOPBACK_HOSTS)


def test_an_ipv6_address_with_a_port_can_be_listed() -> None:
    """there is no way to list an IPv6 host with a port: "[2001:db8::1]:8443"
    splits at the first ':' into host "[2001" and port "db8::1]:8443" (not digits:
    skipped). parse_url gives the target's host without brackets, so even
    "2001:db8::1" alone fails. Right: accept "[addr]:port" and "addr" for IPv6
    (compare the address without brackets), as "host:port" and "host" for names."""
    target = _target("https://[2001:db8::1]:8443/hook")
    assert host_allowed(target, ["[2001:db8::1]:8443"])
    assert host_allowed(target, ["2001:db8::1"])
    assert not host_allowed(target, ["[2001:db8::1]:9999"])
