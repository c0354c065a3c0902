"""The model list of a running cursor-gateway (its own `GET /v1/models`), for `cursor-gateway connect`,
which writes those ids into a coding tool's config. Errors become one readable line for the terminal."""

from __future__ import annotations

import httpx


class GatewayUnreachable(Exception):
    pass


def gateway_model_list(url: str, key: str) -> list[tuple[str, str]]:
    """(id, display name) of every model the gateway at `url` lists for `key`."""
    try:
        answer = httpx.get(f"{url}/v1/models", headers={"authorization": f"Bearer {key}"}, timeout=15)
    except httpx.HTTPError as exc:
        raise GatewayUnreachable(f"cannot reach the gateway at {url}: {exc}") from exc
    if answer.status_code in (401, 403):
        raise GatewayUnreachable(f"the gateway refused the key ({answer.status_code})")
    if answer.status_code != 200:
        raise GatewayUnreachable(f"GET {url}/v1/models answered {answer.status_code}")
    data = answer.json().get("data") or []
    return [(str(m["id"]), str(m.get("display_name") or m["id"])) for m in data if m.get("id")]
