#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Assembles a bootable GRUB multiboot2 ISO: a kernel, its command line and boot modules.

usage: mkiso.py OUTPUT.iso KERNEL.elf "KERNEL ARGS" [MODULE_PATH=NAME ...] [--corrupt NAME]

Each module is loaded by GRUB with NAME as its command line; the kernel finds modules by
that name ('root' is the root task, 'symbols' the kernel's own ELF for panic reports).
--corrupt NAME damages that module's ELF program headers, for the malformed-ELF test.
"""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def corrupt_elf(data: bytearray) -> bytearray:
    # Point the program header table far past the end of the file.
    if len(data) < 64:
        return data
    data[32:40] = (len(data) + 0x100000).to_bytes(8, "little")
    return data


def main() -> int:
    args = sys.argv[1:]
    corrupt = None
    if "--corrupt" in args:
        i = args.index("--corrupt")
        corrupt = args[i + 1]
        del args[i : i + 2]
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    output, kernel, kernel_args, modules = Path(args[0]), Path(args[1]), args[2], args[3:]

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        boot = root / "boot"
        (boot / "grub").mkdir(parents=True)
        shutil.copy(kernel, boot / "kernel.elf")
        lines = [
            "set timeout=0",
            "set timeout_style=hidden",
            "serial --unit=0 --speed=115200",
            "terminal_output serial",
            'menuentry "Sonde" {',
            f"  multiboot2 /boot/kernel.elf {kernel_args}".rstrip(),
        ]
        for spec in modules:
            path, _, name = spec.partition("=")
            data = bytearray(Path(path).read_bytes())
            if name == corrupt:
                data = corrupt_elf(data)
            (boot / f"{name}.mod").write_bytes(data)
            lines.append(f"  module2 /boot/{name}.mod {name}")
        lines += ["  boot", "}"]
        (boot / "grub" / "grub.cfg").write_text("\n".join(lines) + "\n")
        result = subprocess.run(
            ["grub-mkrescue", "-o", str(output), str(root)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0 or not output.exists():
            print(f"mkiso: grub-mkrescue failed for {output}:\n{result.stdout}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
