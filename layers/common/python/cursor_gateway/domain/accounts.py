"""What Cursor tells us about an account: the stripe profile (plan) and the dashboard user info.

Parsing is pure and tolerant (fact sheet §7.6). The reference fails the whole profile when
`membershipType` is a value it does not know; Cursor adds plans (pro_plus, ultra ...) faster than
clients ship, so any string is kept as sent, and only a wrong *type* is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The values known when this was written (fact sheet §7.6); others are stored as they come.
KNOWN_MEMBERSHIPS = frozenset({"free", "free_trial", "pro", "pro_plus", "ultra", "enterprise"})


class ProfileShapeError(ValueError):
    """The JSON is not the object we expect (not a dict, or a field of the wrong type)."""


@dataclass(frozen=True, slots=True)
class StripeProfile:
    membership_type: str
    days_remaining_on_trial: int = 0
    subscription_status: str = ""
    is_on_student_plan: bool = False

    @property
    def known_membership(self) -> bool:
        return self.membership_type in KNOWN_MEMBERSHIPS


@dataclass(frozen=True, slots=True)
class UserInfo:
    email: str
    name: str = ""
    updated_at: str = ""
    picture: str = ""


def _text(obj: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            raise ProfileShapeError(f"'{key}' is missing")
        return ""
    if not isinstance(value, str):
        raise ProfileShapeError(f"'{key}' is {type(value).__name__}, not a string")
    return value


def parse_stripe_profile(obj: Any) -> StripeProfile:
    if not isinstance(obj, dict):
        raise ProfileShapeError("the stripe profile is not a JSON object")
    membership = _text(obj, "membershipType", required=True).strip()
    if not membership:
        raise ProfileShapeError("'membershipType' is empty")
    days = obj.get("daysRemainingOnTrial")
    if isinstance(days, bool) or not isinstance(days, int | float | type(None)):
        raise ProfileShapeError("'daysRemainingOnTrial' is not a number")
    return StripeProfile(
        membership_type=membership,
        days_remaining_on_trial=int(days or 0),
        subscription_status=_text(obj, "subscriptionStatus"),
        is_on_student_plan=obj.get("isOnStudentPlan") is True,
    )


def parse_user_info(obj: Any) -> UserInfo:
    if not isinstance(obj, dict):
        raise ProfileShapeError("the user info is not a JSON object")
    return UserInfo(
        email=_text(obj, "email", required=True),
        name=_text(obj, "name"),
        updated_at=_text(obj, "updated_at"),
        picture=_text(obj, "picture"),
    )


def dashboard_cookie(user_id: str, jwt: str) -> str:
    """`Cookie` header value for cursor.com dashboard calls (fact sheet §7.2): `user_id::JWT`, the `::`
    URL-encoded as the browser stores it."""
    return f"WorkosCursorSessionToken={user_id}%3A%3A{jwt}"
