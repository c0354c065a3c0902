"""The checks `make build` and `make lint` rely on: the layer's ELF check (on hand-made headers; the real
layer is checked by `make build` itself), the python3.12 finder's message when there is none, and the
layer's pins agreeing with pyproject.toml."""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
from pathlib import Path
from types import ModuleType

from handler_kit import ROOT

SCRIPTS = ROOT / "infra/scripts"


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def elf(machine: int, *, bits: int = 64) -> bytes:
    # e_ident: magic, class (1 = 32-bit, 2 = 64-bit), data (1 = little-endian), version; then e_type and
    # e_machine; the rest of a real header does not matter to the check.
    ident = b"\x7fELF" + bytes([2 if bits == 64 else 1, 1, 1]) + bytes(9)
    return ident + struct.pack("<HH", 3, machine) + bytes(44)


def fake_layer(root: Path, machine: int) -> None:
    for relative in (
        "pydantic_core/_pydantic_core.cpython-312-aarch64-linux-gnu.so",
        "pyqwest/_pyqwest.abi3.so",
        "google/_upb/_message.abi3.so",
    ):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(elf(machine))


def test_an_arm64_layer_passes(tmp_path: Path) -> None:
    check = script("check_layer_elf")
    fake_layer(tmp_path, 183)
    found, problems = check.problems(tmp_path, "arm64")
    assert len(found) == 3 and problems == []
    assert check.main([str(tmp_path), "--arch", "arm64"]) == 0


def test_an_x86_64_extension_fails(tmp_path: Path) -> None:
    check = script("check_layer_elf")
    fake_layer(tmp_path, 183)
    (tmp_path / "pyqwest/_pyqwest.abi3.so").write_bytes(elf(62))
    (tmp_path / "lib.so.1").write_bytes(elf(183, bits=32))
    _, problems = check.problems(tmp_path, "arm64")
    assert problems == ["lib.so.1: 32-bit arm64", "pyqwest/_pyqwest.abi3.so: x86_64"]
    assert check.main([str(tmp_path)]) == 1


def test_a_layer_without_its_native_packages_fails(tmp_path: Path) -> None:
    check = script("check_layer_elf")
    (tmp_path / "cursor_gateway").mkdir()
    (tmp_path / "not-elf.so").write_bytes(b"#!/bin/sh\n")
    _, problems = check.problems(tmp_path, "arm64")
    assert "not-elf.so: not ELF" in problems
    assert sum("in the layer" in p for p in problems) == 3
    assert check.main([str(tmp_path / "missing")]) == 2


def test_make_build_says_clearly_when_there_is_no_python312(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHON312_DIR": str(tmp_path), "HOME": str(tmp_path)}
    answer = subprocess.run(
        ["bash", str(SCRIPTS / "python312_dir.sh")], env=env, capture_output=True, text=True, timeout=30
    )
    if answer.returncode == 0:  # this machine has a system python3.12: then it must be a real one
        found = Path(answer.stdout.strip()) / "python3.12"
        assert os.access(found, os.X_OK)
        return
    assert answer.returncode == 1
    assert "no python3.12 found" in answer.stderr and "PYTHON312_DIR" in answer.stderr


def test_the_layer_pins_agree_with_pyproject() -> None:
    requirements = script("layer_requirements")
    assert requirements.main(["--check"]) == 0
    pins = requirements.read_pins(requirements.REQUIREMENTS.read_text())
    assert {"fastapi", "pydantic", "pyqwest", "protobuf", "mangum", "uvicorn"} <= pins.keys()
    assert all(version for version in pins.values()), "every layer requirement is pinned"
