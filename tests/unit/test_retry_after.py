from __future__ import annotations

import email.utils

import pytest
from cursor_gateway.errors import UpstreamRateLimited, UpstreamUnavailable
from cursor_gateway.upstream.retry_after import honour_retry_after, parse_retry_after

NOW = 1_790_000_000.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        (email.utils.formatdate(NOW + 90, usegmt=True), 90.0),
        ("0", None),
        ("-5", None),
        ("soon", None),
        ("", None),
        (str(10 * 86400), None),  # a ten-day ban is garbage, not a cooldown
        (email.utils.formatdate(NOW - 90, usegmt=True), None),
    ],
)
def test_parse_retry_after(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_honour_keeps_an_explicit_value_and_ignores_other_errors() -> None:
    limited = UpstreamRateLimited("x", retry_after=30.0)
    honour_retry_after(limited, "120")
    assert limited.retry_after == 30.0
    overloaded = UpstreamUnavailable("y")
    honour_retry_after(overloaded, "15")
    assert overloaded.retry_after == 15.0
    other = ValueError("z")
    honour_retry_after(other, "15")  # not ours: untouched, no crash
