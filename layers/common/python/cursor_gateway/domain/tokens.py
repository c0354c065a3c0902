"""The account pool's types: a stored Cursor credential and its health, and how raw input becomes one.

A token is either a session JWT (`kind="session"`, sent as the bearer) or a `crsr_` user API key
(`kind="api_key"`), which must be exchanged for a 1-hour JWT first; that JWT is cached on the record
(`access_token`, `access_expires_at`) so every Lambda instance shares it.

`parse_token_input` is pure (no I/O, the clock is an argument): it accepts every form users paste and
classifies what it cannot use. The outcomes are those of `POST /tokens/add`:

- `malformed`: not a credential we can read (bad base64/JSON, no `sub`/`exp`, garbage, a mismatched
  cookie user id, an exchanged `api_key_token` JWT pasted instead of its `crsr_` key).
- `expired`: a readable JWT whose `exp` is not in the future.
- `unsupported_provider`: `sub` names an identity provider outside `SUPPORTED_PROVIDERS`.
- `old_format`: our definition: a Cursor JWT from before the `type` claim existed (no `type` at all).
  Such tokens come from the pre-WorkOS login and cannot be refreshed or upgraded; the user must log in
  again and export a current token. `type: "web"` (the browser cookie's token) is accepted: it works as a
  bearer, and rejecting it would reject the cookie form users are told to paste. It is recorded in
  `token_type` so a later upgrade flow can find it.
- `added` / `duplicate` are decided by the admin service against the store, not here.

Unlike the reference, any JWT header and any extra claims are accepted: Cursor adds claims over time
and a strict parser turns every such change into an outage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
import zoneinfo
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

TokenKind = Literal["session", "api_key"]
TokenStatus = Literal["enabled", "disabled"]
HealthState = Literal["healthy", "cooling_down", "disabled"]
ProblemOutcome = Literal["malformed", "expired", "unsupported_provider", "old_format"]

SUPPORTED_PROVIDERS: frozenset[str] = frozenset({"auth0", "google-oauth2", "github"})
COOKIE_NAME = "WorkosCursorSessionToken"
API_KEY_PREFIX = "crsr_"

# Salts for the derived checksum halves: the IDE sends two independent machine ids, so two salts; the
# salt also keeps the value from being a plain hash of the token (which other clients compute as
# client_key) so the header does not reveal which token sent it.
_CHECKSUM_SALTS = (b"cursor-gateway/machine-id/v1\0", b"cursor-gateway/mac-machine-id/v1\0")

_B64URL = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_API_KEY = re.compile(r"^crsr_[A-Za-z0-9_-]{16,}$")
_TIMESTAMP8 = re.compile(r"^[A-Za-z0-9_-]{8}$")
_ALIAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")
_TZ_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*){0,2}$")


@dataclass(frozen=True, slots=True)
class TokenHealth:
    """What live traffic says about a token; the rules that change it are in `domain.health`."""

    state: HealthState = "healthy"
    reason: str = ""
    cooldown_until: float = 0.0
    score: float = 1.0
    consecutive_failures: int = 0
    # Rate limits since the last success: the exponent of the cooldown backoff.
    rate_limits: int = 0
    # When `score` was computed (it drifts back towards 1 from then on); 0 for a pristine score.
    scored_at: float = 0.0
    # Half-open: until when one request (on any instance) holds the single trial after a cooldown.
    trial_until: float = 0.0
    # Rests of single model classes ("claude=<until>=<strikes>"; domain.model_cooldowns), account usable.
    model_cooldowns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TokenRecord:
    alias: str
    kind: TokenKind
    # Secrets stay out of repr() so a logged record never carries a whole credential.
    primary_token: str = field(repr=False)
    status: TokenStatus = "enabled"
    health: TokenHealth = field(default_factory=TokenHealth)
    refresh_token: str = field(default="", repr=False)
    # For api_key tokens: the exchanged JWT and its expiry (unix seconds).
    access_token: str = field(default="", repr=False)
    access_expires_at: float = 0.0
    client_key: str = ""
    session_id: str = ""
    checksum_first: str = ""
    checksum_second: str = ""
    config_version: str = ""
    timezone: str = ""
    proxy: str = ""
    gcpp_host: str = ""
    user_id: str = ""
    # The JWT `type` claim of a session token (`session`, `web`, ...); "" for api keys.
    token_type: str = ""
    # Expiry of the primary token (JWT `exp`); 0 for api keys, which do not expire by themselves.
    expires_at: float = 0.0
    # Cursor model ids this account may use (`GetUsableModels`); empty means "not known yet", and such a
    # token is eligible for every model.
    usable_models: tuple[str, ...] = ()
    # Protocol profile for this token only (agent | inference | legacy); "" follows the runtime config.
    cursor_protocol: str = ""
    # The account's agent host from GetServerConfig's agentUrlConfig (regional accounts); "" = the default.
    agent_url: str = ""
    # The current billing period (GetCurrentPeriodUsage, domain.period_usage); -1 = not reported,
    # `usage_updated_at` 0 = never fetched.
    plan_limit: float = -1.0
    plan_remaining: float = -1.0
    plan_percent_used: float = -1.0
    plan_auto_percent_used: float = -1.0
    plan_api_percent_used: float = -1.0
    billing_cycle_start: str = ""
    billing_cycle_end: str = ""
    usage_updated_at: float = 0.0
    # Account profile (`POST /tokens/profile/update`, domain.accounts): the plan and dashboard user as
    # Cursor last reported them. Membership values are kept as sent; `profile_updated_at` 0 = never fetched.
    membership_type: str = ""
    trial_days_remaining: int = 0
    subscription_status: str = ""
    email: str = ""
    user_name: str = ""
    user_updated_at: str = ""
    user_picture: str = ""
    profile_updated_at: float = 0.0
    created_at: float = 0.0
    updated_at: float = 0.0
    version: int = 0

    @property
    def usable(self) -> bool:
        return self.status == "enabled" and self.health.state != "disabled"


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A credential we can store. `token` is the canonical form: the bare JWT or the `crsr_` key."""

    kind: TokenKind
    token: str = field(repr=False)
    user_id: str = ""
    provider: str = ""
    token_type: str = ""
    expires_at: float = 0.0
    email: str = ""


@dataclass(frozen=True, slots=True)
class ImportProblem:
    outcome: ProblemOutcome
    detail: str


def mask_secret(value: str, keep: int = 6) -> str:
    """Never log or return a whole credential: keep a short prefix and suffix for recognition."""
    if not value:
        return ""
    if len(value) <= keep * 2 + 3:
        return value[:2] + "***"
    return f"{value[:keep]}...{value[-4:]}"


# --- JWT -------------------------------------------------------------------------------------------


class JwtError(ValueError):
    pass


def _b64url_json(segment: str, what: str) -> dict[str, Any]:
    if not segment or not _B64URL.match(segment):
        raise JwtError(f"JWT {what} is not base64url")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise JwtError(f"JWT {what} is not base64url JSON") from exc
    if not isinstance(value, dict):
        raise JwtError(f"JWT {what} is not a JSON object")
    return value


def decode_jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a compact JWS, without verifying the signature (we are not its audience: Cursor
    checks it; we only read `sub`, `exp` and `type` to file and schedule the token)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtError("a JWT has three dot-separated parts")
    header, payload, signature = parts
    _b64url_json(header, "header")
    if not signature or not _B64URL.match(signature):
        raise JwtError("JWT signature is not base64url")
    return _b64url_json(payload, "payload")


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim as unix seconds, or None when absent or not a number."""
    return _as_seconds(decode_jwt_claims(token).get("exp"))


def _as_seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


# --- Input forms -----------------------------------------------------------------------------------


def _unwrap_cookie(raw: str) -> str:
    """`WorkosCursorSessionToken=<v>` alone or inside a whole `Cookie:` header -> `<v>`, URL-decoded."""
    value = raw
    marker = COOKIE_NAME.lower() + "="
    lowered = value.lower()
    if marker in lowered:
        start = lowered.index(marker) + len(marker)
        value = value[start:].split(";", 1)[0].strip()
    if "%" in value:
        value = unquote(value)
    return value.strip().strip('"')


def parse_token_input(
    raw: str, now: float, *, providers: frozenset[str] = SUPPORTED_PROVIDERS
) -> ParsedToken | ImportProblem:
    """Classify one pasted credential. Accepted forms: a bare JWT, `user_...::JWT`, the cookie value
    `user_...%3A%3AJWT` (optionally prefixed `WorkosCursorSessionToken=`), and a `crsr_` user API key."""
    value = _unwrap_cookie(raw.strip())
    if not value:
        return ImportProblem("malformed", "empty token")
    if value.startswith(API_KEY_PREFIX):
        if not _API_KEY.match(value):
            return ImportProblem("malformed", "a crsr_ key is 'crsr_' followed by at least 16 [A-Za-z0-9_-]")
        return ParsedToken(kind="api_key", token=value)

    cookie_user = ""
    if "::" in value:
        cookie_user, _, value = value.rpartition("::")
        cookie_user = cookie_user.strip()
        value = value.strip()
    try:
        claims = decode_jwt_claims(value)
    except JwtError as exc:
        return ImportProblem("malformed", str(exc))

    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        return ImportProblem("malformed", "JWT has no 'sub' claim")
    provider, sep, user_id = sub.partition("|")
    if not sep or not provider or not user_id:
        return ImportProblem("malformed", "JWT 'sub' is not '<provider>|<user id>'")
    if cookie_user and cookie_user != user_id:
        return ImportProblem("malformed", "the user id before '::' does not match the JWT 'sub'")

    exp = _as_seconds(claims.get("exp"))
    if exp is None:
        return ImportProblem("malformed", "JWT has no numeric 'exp' claim")
    token_type = claims.get("type")
    if token_type is None:
        return ImportProblem(
            "old_format",
            "JWT has no 'type' claim (pre-WorkOS login); log in again and export a current token",
        )
    if not isinstance(token_type, str):
        return ImportProblem("malformed", "JWT 'type' claim is not a string")
    if token_type == "api_key_token":
        return ImportProblem(
            "malformed", "this is a 1-hour token exchanged from a crsr_ key; add the crsr_ key itself"
        )
    if provider not in providers:
        return ImportProblem("unsupported_provider", f"identity provider '{provider}' is not supported")
    if exp <= now:
        return ImportProblem("expired", f"JWT expired at {int(exp)} (unix seconds)")
    email = claims.get("email")
    return ParsedToken(
        kind="session",
        token=value,
        user_id=user_id,
        provider=provider,
        token_type=token_type,
        expires_at=exp,
        email=email if isinstance(email, str) else "",
    )


# --- Derived bundle values -------------------------------------------------------------------------


def derive_client_key(token: str) -> str:
    """`x-client-key` when none was given: sha256 hex of the credential. Deterministic (as other public
    clients do) so re-importing the same token on any instance gives the same identity, unlike the
    reference's random and periodically rotated key."""
    return hashlib.sha256(token.encode()).hexdigest()


def derive_session_id(token: str) -> str:
    """`x-session-id` when none was given: uuid5(NAMESPACE_DNS, token), deterministic for the same reason."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, token))


def derive_checksum(token: str) -> tuple[str, str]:
    """The two 64-hex machine ids of `x-cursor-checksum` when none were given. They look random (salted
    sha256) but are stable per credential, so an account keeps one "machine" across instances and
    restarts instead of appearing from a new machine on every cold start."""
    first, second = (hashlib.sha256(salt + token.encode()).hexdigest() for salt in _CHECKSUM_SALTS)
    return first, second


def parse_checksum(value: str | dict[str, Any]) -> tuple[str, str] | None:
    """A user-supplied checksum: `{first, second}` (64 hex each), or one of the reference's string forms
    (cursor-protocol.md §7.5): 64 hex + '/' + 64 hex, or the whole 137-char header (8-char time stamp
    first, discarded). None when unreadable; unlike the reference we do not silently randomise input
    the user typed, the caller reports it."""
    if isinstance(value, dict):
        first, second = value.get("first"), value.get("second")
        if isinstance(first, str) and isinstance(second, str) and is_hex64(first) and is_hex64(second):
            return first.lower(), second.lower()
        return None
    text = value.strip()
    if len(text) == 137 and _TIMESTAMP8.match(text[:8]):
        text = text[8:]
    first, sep, second = text.partition("/")
    if sep and _HEX64.match(first) and _HEX64.match(second):
        return first.lower(), second.lower()
    return None


def is_hex64(value: str) -> bool:
    return bool(_HEX64.match(value))


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def is_valid_timezone(name: str) -> bool:
    """An IANA zone name the tz database knows (`Europe/Paris`, `UTC`). Without any tz database on the
    host (some minimal images ship none), a name of IANA shape is accepted rather than refusing them all."""
    if not _TZ_NAME.match(name):
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return not zoneinfo.available_timezones()
    return True


def is_valid_alias(alias: str) -> bool:
    """Aliases appear in URLs, logs and CLI arguments: a conservative character set, 1-64 chars."""
    return bool(_ALIAS.match(alias))


def default_alias(parsed: ParsedToken) -> str:
    """Session tokens: the email's local part when the JWT carries one, else the Cursor user id. API keys:
    `crsr-` + 8 hex of the key's sha256. Not the key's own prefix: aliases are shown unmasked everywhere,
    so they must not carry key material."""
    if parsed.kind == "api_key":
        return "crsr-" + hashlib.sha256(parsed.token.encode()).hexdigest()[:8]
    if parsed.email and "@" in parsed.email:
        local = re.sub(r"[^A-Za-z0-9_.+-]", "-", parsed.email.split("@", 1)[0]).strip("-.")
        if local:
            return local[:48]
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", parsed.user_id).strip("-.")
    return cleaned[:48] or "token"


def unique_alias(base: str, taken: set[str] | frozenset[str]) -> str:
    """`base`, or `base-2`, `base-3`, ... : the first one not in `taken`."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"
