"""The proxy table (`/proxies/*`, admin-api.md "Proxies"): named outbound proxies and the general one (pure).

A value is `non` (direct: no proxy, proxy environment variables ignored), `sys` (the environment's proxy
variables, i.e. the default egress) or a proxy URL (`http`, `https`, `socks5`, `socks5h`). A token (or a
gateway key) names a proxy; a name the table does not hold means the general proxy, as in the reference.
Unlike the reference, a name that is itself a value (`non`, `sys` or a URL) means that value, so
`/tokens/add` with `"proxy": "socks5://..."` works without a table entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cursor_gateway.errors import InvalidRequest

NON = "non"
SYS = "sys"
SCHEMES = ("http", "https", "socks5", "socks5h")
MAX_NAME = 64
EXPECTATIONS = ("simple", "updated_proxies", "failed_names", "detailed")
# The reference's spellings of the same modes (its enum is shared with /tokens/del).
EXPECTATION_ALIASES = {"updated_tokens": "updated_proxies", "failed_tokens": "failed_names"}


def proxy_value_problem(value: Any) -> str | None:
    """Why `value` is not a proxy value, or None when it is one."""
    if not isinstance(value, str) or not value.strip():
        return "must be 'non', 'sys' or a proxy URL"
    value = value.strip()
    if value in (NON, SYS):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError when not a number in 0-65535
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in SCHEMES:
        return f"must be 'non', 'sys' or a URL with scheme {', '.join(SCHEMES)}"
    if not parts.hostname:
        return "has no host"
    if port == 0:
        return "has port 0"
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return "must be scheme://[user:password@]host[:port] without a path"
    return None


def is_proxy_value(value: Any) -> bool:
    return proxy_value_problem(value) is None


def check_value(name: str, value: Any) -> str:
    problem = proxy_value_problem(value)
    if problem:
        raise InvalidRequest(f"Proxy '{name}' {problem}", param=f"proxies.{name}")
    text = str(value).strip()
    if text in (NON, SYS):
        return text
    scheme, rest = text.split("://", 1)
    return f"{scheme.lower()}://{rest.rstrip('/')}"


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name or name != name.strip() or len(name) > MAX_NAME:
        raise InvalidRequest(
            f"Proxy names are 1-{MAX_NAME} characters without surrounding spaces", param="proxies"
        )
    return name


def masked(value: str) -> str:
    """A value safe for logs: the password of a URL replaced by ***."""
    if "://" not in value or "@" not in value:
        return value
    scheme, rest = value.split("://", 1)
    userinfo, _, host = rest.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


@dataclass(frozen=True, slots=True)
class ProxyTable:
    proxies: Mapping[str, str] = field(default_factory=lambda: {SYS: SYS})
    general: str = SYS

    def as_json(self) -> dict[str, Any]:
        return {"proxies": dict(self.proxies), "general": self.general}

    def value_for(self, name: str | None) -> str:
        """The value a token's (or key's) proxy name stands for: the named entry, else a value written
        in place of a name, else the general proxy."""
        name = (name or "").strip()
        if name in self.proxies:
            return self.proxies[name]
        if name and is_proxy_value(name):
            return check_value(name, name)
        return self.proxies.get(self.general, SYS)

    # -- admin changes: each returns a new table, or raises InvalidRequest -----------------------------

    def replaced(self, proxies: Mapping[str, Any], general: str | None) -> ProxyTable:
        table = _checked(proxies)
        if not table:
            raise InvalidRequest('At least one proxy is needed (e.g. {"sys": "sys"})', param="proxies")
        if general is None:
            general = self.general if self.general in table else (SYS if SYS in table else next(iter(table)))
        elif general not in table:
            raise InvalidRequest(f"General proxy '{general}' is not among the proxies", param="general")
        return ProxyTable(table, general)

    def added(self, proxies: Mapping[str, Any]) -> tuple[ProxyTable, list[str]]:
        """Adds the new names; names already present are ignored (returned as the second item)."""
        table = _checked(proxies)
        existing = [name for name in table if name in self.proxies]
        merged = dict(self.proxies)
        merged.update({name: value for name, value in table.items() if name not in self.proxies})
        return ProxyTable(merged, self.general), existing

    def deleted(self, names: Iterable[str]) -> tuple[ProxyTable, list[str]]:
        """Removes the names; unknown ones are returned. As in the reference, an emptied table becomes
        the default (`sys`) and a deleted general proxy is replaced (by `sys` when present, else the
        first remaining name)."""
        names = list(names)
        failed = [name for name in names if name not in self.proxies]
        remaining = {k: v for k, v in self.proxies.items() if k not in set(names)}
        if not remaining:
            return ProxyTable(), failed
        general = self.general
        if general not in remaining:
            general = SYS if SYS in remaining else next(iter(remaining))
        return ProxyTable(remaining, general), failed

    def with_general(self, name: str) -> ProxyTable:
        if name not in self.proxies:
            raise InvalidRequest(f"Proxy '{name}' does not exist", param="name")
        return ProxyTable(dict(self.proxies), name)


def _checked(proxies: Mapping[str, Any]) -> dict[str, str]:
    return {check_name(name): check_value(name, value) for name, value in proxies.items()}


def table_from_stored(data: Mapping[str, Any] | None) -> ProxyTable:
    """Stored JSON -> table; entries that no longer validate are dropped rather than failing every read."""
    if not data:
        return ProxyTable()
    raw = data.get("proxies")
    proxies = {
        name: check_value(name, value)
        for name, value in (raw.items() if isinstance(raw, Mapping) else [])
        if isinstance(name, str) and is_proxy_value(value)
    }
    if not proxies:
        return ProxyTable()
    general = data.get("general")
    if not isinstance(general, str) or general not in proxies:
        general = SYS if SYS in proxies else next(iter(proxies))
    return ProxyTable(proxies, general)


def expectation(value: str | None) -> str:
    value = EXPECTATION_ALIASES.get(value or "simple", value or "simple")
    if value not in EXPECTATIONS:
        raise InvalidRequest(f"expectation must be one of: {', '.join(EXPECTATIONS)}", param="expectation")
    return value
