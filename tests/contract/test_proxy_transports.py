"""The transports honour the proxy argument `ProxyService.resolve` gives, over real sockets: a socks5 URL
tunnels both the pyqwest stream transport and the httpx JSON client (HTTP/2 through the tunnel), one
transport / client per proxy is reused, DIRECT ("") ignores proxy environment variables and SYSTEM ("sys")
follows them. reqwest reads the environment's proxies once per process, so the environment cases run in
a fresh interpreter each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cursor_gateway.upstream.http import json_client
from cursor_gateway.upstream.transport import DIRECT, SYSTEM, stream_client, stream_transport
from fakes.socks5 import FakeSocks5, running_socks5
from harness import running_fake

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    with running_fake() as fake:
        yield fake.url


@pytest.fixture
def socks() -> Iterator[FakeSocks5]:
    with running_socks5() as proxy:
        yield proxy


async def test_socks5_carries_both_clients_and_each_proxy_gets_one_client(
    fake_url: str, socks: FakeSocks5
) -> None:
    client = json_client(fake_url, proxy=socks.url)
    assert json_client(fake_url, proxy=socks.url) is client
    assert json_client(fake_url, proxy=DIRECT) is not client
    response = await client.get(fake_url + "/oauth/token")
    assert response.http_version == "HTTP/2"
    assert response.status_code < 500
    assert len(socks.tunnels) == 1

    assert stream_transport(proxy=socks.url, tls=False) is stream_transport(proxy=socks.url, tls=False)
    streamed = await stream_client(fake_url, proxy=socks.url).get(fake_url + "/oauth/token")
    assert streamed.status < 500
    assert len(socks.tunnels) == 2

    socks5h = socks.url.replace("socks5://", "socks5h://")
    await json_client(fake_url, proxy=socks5h).get(fake_url + "/oauth/token")
    await stream_client(fake_url, proxy=socks5h).get(fake_url + "/oauth/token")
    assert len(socks.tunnels) == 4


async def test_direct_without_environment_proxies_connects(fake_url: str, socks: FakeSocks5) -> None:
    response = await json_client(fake_url, proxy=DIRECT).get(fake_url + "/oauth/token")
    assert response.status_code < 500
    streamed = await stream_client(fake_url, proxy=DIRECT).get(fake_url + "/oauth/token")
    assert streamed.status < 500
    assert socks.tunnels == []


# Ends with os._exit: an interpreter exiting with pyqwest connections still pooled can abort in teardown.
CHILD = """
import asyncio, json, os, sys
from cursor_gateway.upstream.http import json_client
from cursor_gateway.upstream.transport import stream_client

async def main(url, proxy):
    a = await json_client(url, proxy=proxy).get(url + "/oauth/token")
    b = await stream_client(url, proxy=proxy).get(url + "/oauth/token")
    print(json.dumps([a.status_code, b.status]))

asyncio.run(main(sys.argv[1], sys.argv[2]))
sys.stdout.flush()
os._exit(0)
"""


def run_child(url: str, proxy: str, env_proxy: str) -> list[int]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(
        {
            "PYTHONPATH": str(ROOT / "layers/common/python"),
            "HTTP_PROXY": env_proxy,
            "http_proxy": env_proxy,
            "ALL_PROXY": env_proxy,
            "all_proxy": env_proxy,
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url, proxy], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    statuses: list[int] = json.loads(done.stdout)
    return statuses


def test_direct_ignores_and_system_follows_the_environment(fake_url: str, socks: FakeSocks5) -> None:
    statuses = run_child(fake_url, DIRECT, socks.url)
    assert all(status < 500 for status in statuses)
    assert socks.tunnels == []  # both clients went straight to the target

    statuses = run_child(fake_url, SYSTEM, socks.url)
    assert all(status < 500 for status in statuses)
    assert len(socks.tunnels) == 2  # both clients used the environment's proxy
