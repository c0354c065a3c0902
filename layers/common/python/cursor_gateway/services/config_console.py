"""What the config page shows beside each field, and the version history it diffs and rolls back to.

`describe`: per field, the built-in default, the environment twin's value (`GET /env-example` names it),
what the store holds (absent: the field follows the environment) and the effective value, plus the form's
choices. `history`: the last versions as stored (only what an operator set), newest first. Both read
through ConfigService's store; the share token is masked everywhere, as in `POST /config` answers.
"""

from __future__ import annotations

from typing import Any

from cursor_gateway.domain.config import (
    FIELD_CHOICES,
    FIELDS,
    FLAGS,
    IDENTITY_FIELDS,
    PROFILES,
    USAGE_CHECK_TYPES,
    RuntimeConfig,
)
from cursor_gateway.services.config import ConfigService, environment_twins

HISTORY_LIMIT = 20

# Field -> its environment variable (client_identity has several: CURSOR_CLIENT_*).
ENVIRONMENT_NAMES = {name: name.upper() for name in FIELDS} | {
    "share_token": "SHARED_TOKEN",
    "client_identity": "CURSOR_CLIENT_TYPE, CURSOR_CLIENT_VERSION, ...",
}


def _mask(name: str, value: Any) -> Any:
    if name == "share_token" and isinstance(value, str) and value:
        return value[:3] + "***"
    return value


def describe(service: ConfigService) -> dict[str, Any]:
    service.invalidate()
    effective = service.current()
    version, stored = service.store.load()
    builtin = RuntimeConfig().as_json()
    environment = environment_twins(service.settings)
    fields: dict[str, Any] = {}
    for name in FIELDS:
        entry: dict[str, Any] = {
            "default": _mask(name, builtin[name]),
            "environment_name": ENVIRONMENT_NAMES[name],
            "environment": _mask(name, environment.get(name)),
            "effective": effective.public_json()[name],
        }
        if name in stored:
            entry["stored"] = _mask(name, stored[name])
        if name in FIELD_CHOICES:
            entry["kind"], entry["choices"] = "choice", list(FIELD_CHOICES[name])
        elif name in FLAGS:
            entry["kind"] = "switch"
        elif name == "usage_check_models":
            entry["kind"], entry["choices"] = "usage_check", list(USAGE_CHECK_TYPES)
        elif name == "model_aliases":
            entry["kind"] = "map"
        elif name == "client_identity":
            entry["kind"], entry["profiles"] = "identity", list(PROFILES)
            entry["identity_fields"] = {k: t.__name__ for k, t in IDENTITY_FIELDS.items()}
        else:
            entry["kind"] = "text"
        fields[name] = entry
    return {
        "status": "success",
        "message": "Config fields with their default, environment and stored values",
        "version": version,
        "fields": fields,
    }


def history(service: ConfigService, limit: int = HISTORY_LIMIT) -> dict[str, Any]:
    version, _ = service.store.load()
    versions = []
    for number in range(version, max(0, version - limit), -1):
        data = service.store.load_version(number)
        if data is not None:
            versions.append({"version": number, "stored": {k: _mask(k, v) for k, v in data.items()}})
    message = f"Last {len(versions)} versions"
    return {"status": "success", "message": message, "version": version, "versions": versions}
