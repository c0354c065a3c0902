"""Check that every native extension in the built layer is for the functions' architecture.

    python infra/scripts/check_layer_elf.py .aws-sam/build/CommonLayer/python --arch arm64

arm64 wheels cannot be imported on an x86_64 build machine, so the only check possible here is the ELF
header: a 64-bit little-endian shared object whose `e_machine` is the target's. A wrong wheel (pip
falling back to the build machine's platform, or an sdist compiled locally) fails here instead of as an
`invalid ELF header` ImportError on the first cold start. The packages we know to be native must also
be present as native code, so an empty or half-built layer cannot pass. Standard library only.
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
MACHINES = {183: "arm64", 62: "x86_64", 3: "x86", 40: "arm"}  # e_machine: EM_AARCH64, EM_X86_64, ...
# Native code the layer must carry (glob under the layer root): pydantic's core, the HTTP/2 client,
# protobuf's upb runtime.
REQUIRED = ("pydantic_core/_pydantic_core*.so", "pyqwest/*.so", "google/_upb/_message*.so")


def elf_arch(path: Path) -> str:
    """The architecture an ELF file is built for ("arm64", "x86_64", ...), or why it is not one."""
    with path.open("rb") as handle:
        header = handle.read(20)
    if len(header) < 20 or header[:4] != ELF_MAGIC:
        return "not ELF"
    elf_class, data = header[4], header[5]
    if data != 1:
        return "big-endian ELF"
    (machine,) = struct.unpack_from("<H", header, 18)
    name = MACHINES.get(machine, f"e_machine {machine}")
    return name if elf_class == 2 else f"32-bit {name}"


def shared_objects(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and (p.suffix == ".so" or ".so." in p.name))


def problems(root: Path, arch: str) -> tuple[list[Path], list[str]]:
    found = shared_objects(root)
    wrong = [f"{p.relative_to(root)}: {elf_arch(p)}" for p in found if elf_arch(p) != arch]
    missing = [f"no {pattern} in the layer" for pattern in REQUIRED if not any(root.glob(pattern))]
    return found, wrong + missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="the built layer's python/ directory")
    parser.add_argument("--arch", default="arm64", choices=sorted(set(MACHINES.values())))
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        print(f"{args.root} does not exist: run `make build` first", file=sys.stderr)
        return 2
    found, bad = problems(args.root, args.arch)
    for line in bad:
        print(f"layer: {line}", file=sys.stderr)
    if bad:
        return 1
    print(f"layer: {len(found)} shared objects, all {args.arch} ELF")
    return 0


if __name__ == "__main__":
    sys.exit(main())
