"""The newest Cursor CLI build, read from Cursor's installer script (pure parsing + one small GET).

`https://cursor.com/install` downloads from `downloads.cursor.com/lab/<YYYY.MM.DD-hash>/...`; the CLI
presents itself as `cli-<that folder>`. Cursor gates on that id ("Update Required"), so following the
installer keeps the gateway's identity current without a release of ours.
"""

from __future__ import annotations

import re

_BUILD = re.compile(r"downloads\.cursor\.com/lab/(\d{4}\.\d{2}\.\d{2}-[0-9a-f]{6,40})/")
_CLI_VERSION = re.compile(r"^cli-(\d{4})\.(\d{2})\.(\d{2})-[0-9a-f]+$")
MAX_SCRIPT_BYTES = 512 * 1024


def parse_build_id(script: str) -> str | None:
    """`cli-<YYYY.MM.DD-hash>` of the newest build the script names, or None."""
    builds: list[str] = _BUILD.findall(script)
    if not builds:
        return None
    return "cli-" + max(builds, key=lambda b: b.split("-", 1)[0])


def build_date(version: str) -> tuple[int, int, int] | None:
    """The date of a dated CLI build id (`cli-2026.10.01-e373342` -> (2026, 10, 1)); None for anything else
    (an IDE version such as `cli-3.2.1` is not a CLI build)."""
    match = _CLI_VERSION.match(version)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def ide_shaped(version: str) -> bool:
    """`cli-3.2.1` (an IDE version with a cli- prefix): Cursor gates the CLI on the dated build id, and an
    id of this shape is what older gateways sent and got "Update Required" for."""
    return re.fullmatch(r"cli-\d+\.\d+(\.\d+)?", version) is not None


def newer(candidate: str, floor: str) -> bool:
    """Whether `candidate` is a dated CLI build strictly newer than `floor`."""
    mine, theirs = build_date(candidate), build_date(floor)
    return mine is not None and (theirs is None or mine > theirs)


async def fetch_install_script(url: str, timeout: float) -> str:
    """The installer script's text (at most MAX_SCRIPT_BYTES). Raises httpx errors."""
    import httpx  # only the background discovery needs it: functions that never look stay light

    async with (
        httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client,
        client.stream("GET", url, headers={"user-agent": "curl/8.5.0"}) as response,
    ):
        response.raise_for_status()
        data = bytearray()
        async for chunk in response.aiter_bytes():
            data += chunk
            if len(data) >= MAX_SCRIPT_BYTES:
                break
        return data.decode("utf-8", "replace")
