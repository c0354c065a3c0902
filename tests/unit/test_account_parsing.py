"""Pure parsing of Cursor's account answers (domain.accounts) and the IANA check of token time zones."""

from __future__ import annotations

from typing import Any

import pytest
from cursor_gateway.domain.accounts import (
    ProfileShapeError,
    dashboard_cookie,
    parse_stripe_profile,
    parse_user_info,
)
from cursor_gateway.domain.tokens import is_valid_timezone


def test_stripe_profile_fields() -> None:
    profile = parse_stripe_profile(
        {
            "membershipType": "pro_plus",
            "paymentId": "cus_1",
            "daysRemainingOnTrial": 3.0,
            "subscriptionStatus": "active",
            "isOnStudentPlan": True,
            "someNewField": {"x": 1},
        }
    )
    assert (profile.membership_type, profile.days_remaining_on_trial, profile.subscription_status) == (
        "pro_plus",
        3,
        "active",
    )
    assert profile.is_on_student_plan and profile.known_membership


def test_unknown_membership_values_are_kept() -> None:
    profile = parse_stripe_profile({"membershipType": "team_galaxy"})
    assert profile.membership_type == "team_galaxy" and not profile.known_membership
    assert (profile.days_remaining_on_trial, profile.subscription_status) == (0, "")


@pytest.mark.parametrize(
    "body",
    [
        [],
        "pro",
        {},
        {"membershipType": ""},
        {"membershipType": 5},
        {"membershipType": "pro", "daysRemainingOnTrial": "3"},
        {"membershipType": "pro", "daysRemainingOnTrial": True},
        {"membershipType": "pro", "subscriptionStatus": 1},
    ],
)
def test_stripe_profiles_of_the_wrong_shape(body: Any) -> None:
    with pytest.raises(ProfileShapeError):
        parse_stripe_profile(body)


def test_user_info() -> None:
    info = parse_user_info(
        {"email": "a@b.c", "name": "A", "updated_at": "2026-01-01T00:00:00Z", "picture": None}
    )
    assert (info.email, info.name, info.updated_at, info.picture) == (
        "a@b.c",
        "A",
        "2026-01-01T00:00:00Z",
        "",
    )
    for bad in ({}, {"email": None}, {"email": "a@b.c", "name": 3}, ["a@b.c"]):
        with pytest.raises(ProfileShapeError):
            parse_user_info(bad)


def test_dashboard_cookie_is_url_encoded() -> None:
    assert dashboard_cookie("user_01X", "h.p.s") == "WorkosCursorSessionToken=user_01X%3A%3Ah.p.s"


@pytest.mark.parametrize("name", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_iana_names_are_time_zones(name: str) -> None:
    assert is_valid_timezone(name)


@pytest.mark.parametrize(
    "name", ["", "Mars/Olympus", "Europe", "../etc/passwd", "/etc/localtime", "UTC; x", "Europe/Paris/"]
)
def test_other_names_are_not(name: str) -> None:
    assert not is_valid_timezone(name)
