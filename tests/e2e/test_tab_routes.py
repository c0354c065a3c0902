"""Copilot++ (Tab) end to end: HTTP client -> gateway (uvicorn, real socket) -> fake Cursor (HTTP/2), one
behaviour per bearer. SSE event order of a multi-edit completion, file sync with its cookies (a hash
mismatch, then a re-upload), Cursor's errors before and after the first event in the reference's
shapes, failover, region routing per token, and bad input."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cursor_gateway.api.auth import Caller, require_chat_key
from cursor_gateway.emulator.behaviour import FAILURES, Behaviour
from cursor_gateway.emulator.server import FakeCursor
from cursor_gateway.emulator.tab import STICKY
from cursor_gateway.services.tab import sticky_order
from harness import ADMIN, gateway_settings, make_services, running_fake, running_gateway, session_record

FS_KEY = "5a" * 32
FILESYNC = "9e" * 16
HEADERS = {"authorization": f"Bearer {ADMIN}", "x-client-key": FS_KEY, "cookie": f"FilesyncCookie={FILESYNC}"}
SOURCE = "import os\ndef main\n    x = os.getcwd()\n    # TODO\n"
COMPLETION = {
    "current_file": {
        "relative_workspace_path": "src/main.py",
        "contents": SOURCE,
        "language_id": "python",
        "cursor_position": {"line": 1, "column": 8},
        "total_number_of_lines": 4,
        "workspace_root_path": "/work/demo",
        "line_ending": "\n",
    },
    "model_name": "fast",
    "cpp_intent_info": {"source": "typing"},
    "lsp_suggested_items": {},
    "give_debug_output": True,
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCursor]:
    with running_fake(Behaviour()) as server:
        yield server


@pytest.fixture(autouse=True)
def clean(fake: FakeCursor) -> None:
    fake.by_token.clear()
    fake.tab.calls.clear()
    fake.tab.files.clear()


def events_of(response: httpx.Response) -> list[dict[str, Any]]:
    """`event: <type>` / `data: <json>` pairs; the two must agree."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in response.text.strip().split("\n\n"):
        name, data = block.split("\n")
        event = json.loads(data.removeprefix("data: "))
        assert name == f"event: {event['type']}"
        events.append(event)
    return events


def post(url: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(url + path, headers={**HEADERS, **(headers or {})}, json=body, timeout=30)


def test_a_multi_edit_completion_streams_its_events_in_the_reference_order(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("tab")])) as url:
        events = events_of(post(url, "/cpp/stream", COMPLETION))
    kinds = [e["type"] for e in events]
    # model_info, the first edit, then the second edit of the same suggestion, then the ends.
    assert kinds == [
        "model_info",
        "range_replace", "text", "text", "text", "done_edit",
        "begin_edit", "range_replace", "text", "text", "text", "cursor_prediction", "done_edit",
        "done_stream", "debug", "stream_end",
    ]  # fmt: skip
    first, second = (e for e in events if e["type"] == "range_replace")
    assert (first["start_line_number"], first["end_line_number_inclusive"]) == (
        2,
        2,
    )  # 1-based: the cursor's line
    assert (second["start_line_number"], second["end_line_number_inclusive"]) == (4, 4)  # the TODO line
    assert first["binding_id"] == second["binding_id"] and first["should_remove_leading_eol"] is False
    texts = "".join(e["text"] for e in events if e["type"] == "text")
    assert texts == "def main():\n    return None\n    raise NotImplementedError\n"
    prediction = next(e for e in events if e["type"] == "cursor_prediction")
    assert prediction["line_number_one_indexed"] == 5 and prediction["should_retrigger_cpp"] is True
    debug = next(e for e in events if e["type"] == "debug")
    assert debug["model_input"].startswith("import os") and "stream_time" in debug
    seen = fake.tab.of("stream")[0]
    assert seen.request is not None and seen.request.cpp_intent_info.source == "typing"
    assert seen.request.HasField("lsp_suggested_items")  # `{}` still sets the message
    assert seen.headers["x-fs-client-key"] == FS_KEY and seen.cookies["FilesyncCookie"] == FILESYNC


def test_file_sync_with_cookies_a_hash_mismatch_then_a_reupload(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("tab")])) as url:
        upload = post(
            url,
            "/file/upload",
            {"uuid": "u1", "relative_workspace_path": "src/main.py", "contents": SOURCE, "model_version": 1,
             "sha256_hash": hashlib.sha256(SOURCE.encode()).hexdigest()},
        )  # fmt: skip
        assert upload.status_code == 200 and upload.json() == {}
        set_cookies = upload.headers.get_list("set-cookie")
        assert any(c.startswith(f"{STICKY}={fake.tab.node};") for c in set_cookies)
        sticky = f"FilesyncCookie={FILESYNC}; {STICKY}={fake.tab.node}"

        edited = SOURCE.replace("def main\n", "def main():\n")
        change = {"start_position": 18, "end_position": 18, "change_length": 0, "replaced_string": "():"}
        sync = {
            "uuid": "u2",
            "relative_workspace_path": "src/main.py",
            "model_version": 2,
            "filesync_updates": [{"model_version": 2, "relative_workspace_path": "src/main.py", "updates": [change],
                                  "expected_file_length": len(edited)}],
            "sha256_hash": hashlib.sha256(edited.encode()).hexdigest(),
        }  # fmt: skip
        # Without the ALB cookie the sync lands on a node that never saw the file.
        assert post(url, "/file/sync", sync).json() == {"error": "non_existant"}
        # With it, but claiming the wrong result: a hash mismatch, passed through as the reference does.
        wrong = {**sync, "sha256_hash": "0" * 64}
        mismatch = post(url, "/file/sync", wrong, {"cookie": sticky})
        assert mismatch.status_code == 200 and mismatch.json() == {"error": "hash_mismatch"}
        assert mismatch.headers.get_list("set-cookie")  # Cursor's headers come back on sync too
        # The editor uploads again, then syncs.
        again = post(url, "/file/upload", {"uuid": "u3", "relative_workspace_path": "src/main.py",
                                           "contents": SOURCE, "model_version": 1}, {"cookie": sticky})  # fmt: skip
        assert again.json() == {}
        assert post(url, "/file/sync", sync, {"cookie": sticky}).json() == {}
        # A completion in filesync mode reads the synced file, not the (empty) contents sent.
        filesync_mode = json.loads(json.dumps(COMPLETION))
        filesync_mode["current_file"].update(
            {"contents": "", "rely_on_filesync": True, "file_version": 2,
             "sha_256_hash": hashlib.sha256(edited.encode()).hexdigest(), "cursor_position": {"line": 1, "column": 11}}
        )  # fmt: skip
        events = events_of(post(url, "/cpp/stream", filesync_mode, {"cookie": sticky}))
        # The synced line already reads `def main():` (the upload alone would have given `def main`).
        assert "".join(e["text"] for e in events if e["type"] == "text").startswith("def main():  # done\n")
    outcomes = [(c.rpc, c.outcome) for c in fake.tab.calls]
    assert outcomes == [
        ("upload", "FS_UPLOAD_ERROR_TYPE_UNSPECIFIED"),
        ("sync", "FS_SYNC_ERROR_TYPE_NON_EXISTANT"),
        ("sync", "FS_SYNC_ERROR_TYPE_HASH_MISMATCH"),
        ("upload", "FS_UPLOAD_ERROR_TYPE_UNSPECIFIED"),
        ("sync", "FS_SYNC_ERROR_TYPE_UNSPECIFIED"),
        ("stream", "completed"),
    ]


def test_errors_before_the_first_event_fail_over_then_map_to_the_reference_shape(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, max_token_attempts=2)
    records = [session_record("t1"), session_record("t2")]
    own, other = sticky_order(records, FS_KEY)
    with running_gateway(settings, make_services(settings, records)) as url:
        # The caller's own token (sticky for its x-client-key) is rate limited: the other one answers.
        fake.by_token[own.primary_token] = Behaviour.failing("rate_limited")
        events = events_of(post(url, "/cpp/stream", COMPLETION))
        assert events[0]["type"] == "model_info" and events[-1] == {"type": "stream_end"}
        bearers = [c.headers["authorization"] for c in fake.tab.of("stream")]
        assert bearers == [f"Bearer {own.primary_token}", f"Bearer {other.primary_token}"]

        # A refusal that says nothing about the token is not retried, and keeps Cursor's error.
        fake.tab.calls.clear()
        fake.by_token[other.primary_token] = Behaviour.failing("bad_model")
        refused = post(url, "/cpp/stream", COMPLETION)
        assert refused.status_code == 400
        body = refused.json()
        assert {k: body[k] for k in ("status", "code", "error")} == {
            "status": "error",
            "code": 400,
            "error": "bad_model_name",
        }
        assert json.loads(body["message"]) == {
            "code": "not_found",
            "details": {"title": "Bad model name", "detail": "Unknown model ID."},
        }
        assert len(fake.tab.of("stream")) == 1  # `own` is cooling down, `other` was not given up

        # A unary refusal: status and type by table 5.4 (a usage limit is 503, whatever Cursor's status).
        fake.by_token[other.primary_token] = Behaviour.failing("usage_limit", http_status=429)
        config = post(url, "/cpp/config", {"model": "fast"})
        assert config.status_code == 503 and config.json()["error"] == "pro_user_usage_limit"
        # Now every token rests: chat's answer, with Retry-After.
        resting = post(url, "/cpp/config", {"model": "fast"})
        assert resting.status_code == 429 and resting.json()["error"] == "no_available_tokens"
        assert int(resting.headers["retry-after"]) >= 1


def test_an_error_after_the_first_event_is_an_sse_error_event(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    record = session_record("tab")
    fake.by_token[record.primary_token] = Behaviour(
        mode="error_after_text", error=dict(FAILURES["update_required"])
    )
    with running_gateway(settings, make_services(settings, [record])) as url:
        events = events_of(post(url, "/cpp/stream", COMPLETION))
        # A stream reset after the first event: an in-band error too, then a clean end of the response.
        fake.by_token[record.primary_token] = Behaviour(mode="reset_after_text")
        broken = events_of(post(url, "/cpp/stream", COMPLETION))
        # A rate limit that ends an answer: the caller gets the event, the pool rests the token.
        fake.by_token[record.primary_token] = Behaviour(
            mode="error_after_text", error=dict(FAILURES["rate_limited"])
        )
        limited = events_of(post(url, "/cpp/stream", COMPLETION))
        view = httpx.post(url + "/tokens/get", headers={"authorization": f"Bearer {ADMIN}"}, json={}).json()
    assert [e["type"] for e in events] == ["model_info", "range_replace", "text", "error"]
    assert events[-1]["error"] == {
        "code": 429,
        "type": "gpt4_vision_preview_rate_limit",
        "details": {
            "title": "Update Required",
            "detail": "Please update to the latest version of Cursor to continue using the Agent.",
        },
    }
    assert [e["type"] for e in broken] == ["model_info", "range_replace", "text", "error"]
    assert broken[-1]["error"]["code"] == 503 and broken[-1]["error"]["type"] == "upstream_unavailable"
    assert limited[-1]["error"]["type"] == "rate_limited"
    assert view["tokens"][0][2]["health"]["state"] == "cooling_down"


def test_region_routing_per_token_then_general_setting(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, general_gcpp_host="US")
    records = [session_record("eu", gcpp_host="EU"), session_record("plain")]
    admin = {"authorization": f"Bearer {ADMIN}"}
    with running_gateway(settings, make_services(settings, records)) as url:

        def host_for(alias: str) -> str:
            response = post(
                url, "/file/upload", {"contents": "x"}, {"authorization": f"Bearer {ADMIN}-{alias}"}
            )
            assert response.status_code == 200, response.text
            return fake.tab.calls[-1].headers["x-co"]

        assert host_for("eu") == "us-eu.gcpp.cursor.sh"
        assert host_for("plain") == "us-only.gcpp.cursor.sh"  # GENERAL_GCPP_HOST
        changed = httpx.post(
            url + "/tokens/gcpp-host/set", headers=admin, json={"aliases": ["plain"], "gcpp_host": "asia"}
        )
        assert changed.status_code == 200, changed.text
        assert host_for("plain") == "us-asia.gcpp.cursor.sh"
        view = httpx.post(url + "/tokens/get", headers=admin, json={}).json()
        assert {alias: info["bundle"].get("gcpp_host") for _, alias, info in view["tokens"]} == {
            "eu": "EU",
            "plain": "Asia",
        }
        cleared = httpx.post(
            url + "/tokens/gcpp-host/set", headers=admin, json={"aliases": ["eu"], "gcpp_host": None}
        )
        assert cleared.status_code == 200 and host_for("eu") == "us-only.gcpp.cursor.sh"
        bad = httpx.post(
            url + "/tokens/gcpp-host/set", headers=admin, json={"aliases": ["eu"], "gcpp_host": "mars!"}
        )
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"
        # CppConfig and AvailableModels have fixed hosts whatever the region.
        post(url, "/cpp/models", headers={"authorization": f"Bearer {ADMIN}-plain"})
        assert fake.tab.calls[-1].headers["x-co"] == "api2.cursor.sh"


def test_bad_input_is_a_400_naming_the_field(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    with running_gateway(settings, make_services(settings, [session_record("tab")])) as url:
        missing = post(url, "/cpp/stream", {"model_name": "fast"})
        assert missing.status_code == 400 and "current_file" in missing.json()["message"]
        wrong = post(url, "/cpp/stream", {"current_file": {"cursor_position": {"line": "one"}}})
        assert wrong.status_code == 400 and "current_file.cursor_position.line" in wrong.json()["message"]
        enum = post(url, "/cpp/stream", {"current_file": {}, "control_token": "shout"})
        assert enum.status_code == 400 and "control_token" in enum.json()["message"]
        not_json = httpx.post(url + "/file/sync", headers=HEADERS, content=b"{nope", timeout=30)
        assert not_json.status_code == 400 and not_json.json()["status"] == "error"
        huge = post(url, "/file/upload", {"contents": "x" * (4 * 1024 * 1024 + 10)})
        assert huge.status_code == 413 and huge.json()["error"] == "resource_exhausted"
        anonymous = httpx.post(url + "/cpp/models", json={}, timeout=30)
        assert anonymous.status_code == 401 and anonymous.json()["status"] == "error"
    assert fake.tab.calls == []  # none of these reached Cursor


def test_a_client_key_sticks_to_one_token(fake: FakeCursor) -> None:
    settings = gateway_settings(fake)
    records = [session_record(f"s{i}") for i in range(4)]
    by_bearer = {r.primary_token: r.alias for r in records}
    with running_gateway(settings, make_services(settings, records)) as url:
        for key in ("k1", "k2"):
            for _ in range(3):
                assert post(url, "/cpp/models", headers={"x-client-key": key}).status_code == 200
    used = [by_bearer[c.headers["authorization"].removeprefix("Bearer ")] for c in fake.tab.calls]
    assert len(set(used[:3])) == 1 and len(set(used[3:])) == 1


def test_a_keys_gcpp_host_wins_over_the_tokens(fake: FakeCursor) -> None:
    """A gateway key's settings (what `/build-key` stores, normalised) reach Tab like chat's overrides."""

    def key_with_region(app: Any) -> None:
        async def caller() -> Caller:
            return Caller("key", "test-key", overrides={"gcpp_host": "US"})

        app.dependency_overrides[require_chat_key] = caller

    settings = gateway_settings(fake)
    services = make_services(settings, [session_record("eu", gcpp_host="EU")])
    with running_gateway(settings, services, configure=key_with_region) as url:
        assert post(url, "/file/sync", {"relative_workspace_path": "a.py"}).json() == {
            "error": "non_existant"
        }
    assert fake.tab.calls[-1].headers["x-co"] == "us-only.gcpp.cursor.sh"


def test_a_completion_is_cut_at_max_stream_seconds_with_an_error_event(fake: FakeCursor) -> None:
    settings = gateway_settings(fake, max_stream_seconds=0.5)
    record = session_record("slow")
    fake.by_token[record.primary_token] = Behaviour(delay=0.2)  # 0.2 s between frames, ~2 s in all
    with running_gateway(settings, make_services(settings, [record])) as url:
        events = events_of(post(url, "/cpp/stream", COMPLETION))
    assert events[0]["type"] == "model_info" and events[-1]["type"] == "error"
    assert events[-1]["error"]["code"] == 504 and "stream_end" not in [e["type"] for e in events]


def test_geo_host_from_cpp_config_for_tokens_without_a_region(fake: FakeCursor) -> None:
    """CURSOR_TAB_GEO_HOST: the emulator's CppConfig names `https://<host it was asked on>`, here api4."""
    settings = gateway_settings(fake, cursor_tab_geo_host=True)
    records = [session_record("auto"), session_record("eu", gcpp_host="EU")]
    with running_gateway(settings, make_services(settings, records)) as url:
        for alias in ("auto", "auto", "eu"):
            response = post(
                url, "/file/upload", {"contents": "x"}, {"authorization": f"Bearer {ADMIN}-{alias}"}
            )
            assert response.status_code == 200, response.text
    assert [(c.rpc, c.headers["x-co"]) for c in fake.tab.calls] == [
        ("config", "api4.cursor.sh"),  # asked once for `auto`, then kept
        ("upload", "api4.cursor.sh"),
        ("upload", "api4.cursor.sh"),
        ("upload", "us-eu.gcpp.cursor.sh"),  # an explicit region is not overridden
    ]
