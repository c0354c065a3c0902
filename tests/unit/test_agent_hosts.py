from __future__ import annotations

from cursor_gateway.codec._gen.aiserver.v1 import server_config_pb2
from cursor_gateway.emulator.compat import agent_url_config
from cursor_gateway.upstream.agent_hosts import AgentUrls, parse_agent_urls, run_base_url

UUID = "3f2a9c1e-7b4d-4e8a-9c6f-1d2e3f4a5b6c"


def answer(*extra: bytes) -> bytes:
    return server_config_pb2.GetServerConfigResponse(config_version=UUID).SerializeToString() + b"".join(
        extra
    )


def test_hosts_are_found_by_content_whatever_the_field_number() -> None:
    regional = agent_url_config("https://agent.us.api5.cursor.sh/", "https://agentn.us.api5.cursor.sh")
    assert parse_agent_urls(answer(regional)) == AgentUrls(
        "https://agent.us.api5.cursor.sh", "https://agentn.us.api5.cursor.sh"
    )
    # Labels win over order: agentn first in the message is still the non-privacy host.
    swapped = agent_url_config("https://agentn.api5.cursor.sh", "https://agent.api5.cursor.sh")
    assert parse_agent_urls(answer(swapped)).agent_url == "https://agent.api5.cursor.sh"
    assert parse_agent_urls(answer()) == AgentUrls()
    assert parse_agent_urls(b"\xff\xff garbage") == AgentUrls()


def test_privacy_mode_picks_the_host_and_falls_back_to_the_other() -> None:
    urls = AgentUrls("https://agent.x", "https://agentn.x")
    assert urls.for_mode(True) == "https://agent.x" and urls.for_mode(False) == "https://agentn.x"
    assert AgentUrls("", "https://agentn.x").for_mode(True) == "https://agentn.x"


def test_run_base_url_order() -> None:
    api = "https://api2.cursor.sh"
    assert run_base_url(api, "https://agentn.us.api5.cursor.sh") == "https://agentn.us.api5.cursor.sh"
    # The account's own host first (it fails elsewhere), then the profile's configured base_url.
    regional = "https://agentn.us.api5.cursor.sh"
    assert run_base_url(api, regional, "https://ops.example") == regional
    assert run_base_url(api, "", "https://ops.example") == "https://ops.example"
    assert run_base_url(api, "") == api
    # A plain-http API URL (emulator, tests) overrides every TLS host.
    assert (
        run_base_url("http://127.0.0.1:3100", "https://agentn.us.api5.cursor.sh") == "http://127.0.0.1:3100"
    )
    assert run_base_url("http://127.0.0.1:3100", "", "https://ops.example") == "http://127.0.0.1:3100"
