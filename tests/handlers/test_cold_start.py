"""A cold start does no network I/O: loading every function's handler module in a fresh interpreter, with
the template's environment and every socket connection refused, succeeds without trying to connect.
(The time it takes is measured by bench/cold_start.py, never asserted here.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from handler_kit import ROOT

DRIVER = r"""
import importlib.util, json, socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise OSError("no network during a cold start")
socket.socket.connect = refuse
socket.create_connection = refuse
loaded = {}
for index, path in enumerate(sys.argv[1:]):
    spec = importlib.util.spec_from_file_location(f"app{index}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    loaded[path] = "handler" if hasattr(module, "handler") else "app" if hasattr(module, "app") else "?"
print(json.dumps({"loaded": loaded, "attempts": attempts}))
"""


def test_loading_every_handler_module_needs_no_network() -> None:
    apps = sorted(str(p) for p in ROOT.glob("functions/*/app.py"))
    assert len(apps) >= 5
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AUTH_TOKEN", "SHARED_TOKEN"))}
    env.update(
        PYTHONPATH=str(ROOT / "layers/common/python"),
        AWS_REGION="us-east-1",
        AUTH_TOKEN_PARAM="/cursor-gateway/auth-token",
        SHARED_TOKEN_PARAM="/cursor-gateway/shared-token",
    )
    answer = subprocess.run(
        [sys.executable, "-c", DRIVER, *apps],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    report = json.loads(answer.stdout.strip().splitlines()[-1])
    assert report["attempts"] == []
    assert set(report["loaded"]) == set(apps)
    assert "?" not in report["loaded"].values(), report["loaded"]  # each exposes a handler or an app
