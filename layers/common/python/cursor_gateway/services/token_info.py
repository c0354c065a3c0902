"""The admin `info` object of one token, as `POST /tokens/get` shows it: bundle (secrets masked unless
revealed), status, effective health, kind, plan and the facts of `services.token_details`."""

from __future__ import annotations

import time
from typing import Any

from cursor_gateway.domain.health import state_at
from cursor_gateway.domain.tokens import TokenRecord, mask_secret
from cursor_gateway.services.token_details import account_details


def token_info(record: TokenRecord, *, reveal: bool = False, now: float | None = None) -> dict[str, Any]:
    """The admin `info` object: bundle (secrets masked unless revealed), status, health, kind. The health
    state is the effective one at `now`: `half_open` once a cooldown has passed (never stored)."""
    secret = (lambda v: v) if reveal else mask_secret
    bundle: dict[str, Any] = {"primary_token": secret(record.primary_token)}
    if record.refresh_token:
        bundle["secondary_token"] = secret(record.refresh_token)
    if record.checksum_first and record.checksum_second:
        bundle["checksum"] = {"first": record.checksum_first, "second": record.checksum_second}
    optional = {
        "client_key": record.client_key,
        "config_version": record.config_version,
        "session_id": record.session_id,
        "proxy": record.proxy,
        "timezone": record.timezone,
        "gcpp_host": record.gcpp_host,
    }
    bundle.update({k: v for k, v in optional.items() if v})
    if record.email:
        user = {"email": record.email, "name": record.user_name, "updated_at": record.user_updated_at}
        bundle["user"] = {**user, "picture": record.user_picture} if record.user_picture else user
    health = record.health
    info: dict[str, Any] = {
        "bundle": bundle,
        "status": record.status,
        "health": {
            "state": state_at(health, time.time() if now is None else now),
            "reason": health.reason,
            "cooldown_until": health.cooldown_until or None,
            "score": health.score,
        },
        "kind": record.kind,
        "expires_at": int(record.expires_at) if record.expires_at else None,
    }
    if record.membership_type:
        info["stripe"] = {
            "membership_type": record.membership_type,
            "days_remaining_on_trial": record.trial_days_remaining,
            "subscription_status": record.subscription_status or None,
        }
    if record.usable_models:
        info["usable_models"] = list(record.usable_models)
    if record.profile_updated_at:
        info["profile_updated_at"] = int(record.profile_updated_at)
    if record.cursor_protocol:
        info["cursor_protocol"] = record.cursor_protocol
    info.update(account_details(record, now))
    return info
