#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Types at the interactive console of a Sonde image, as a user at tools/run would, and checks
what comes back (TAP).

usage: console.py IMAGE [--timeout S] [--add HOST:GUEST]... STEP...

IMAGE is an ISO; with --add, the default image plus those files, made as tools/run --add makes
it (IMAGE is then ignored; SONDE_BUILD_DIR names the build).

STEP is one of:
  --expect REGEX   wait (at most --timeout seconds per step) until REGEX matches the console
                   output that followed the previous --expect (a TAP case)
  --send TEXT      type TEXT; \\r, \\n, \\xNN escapes as in Python (\\x03 is Ctrl-C, \\x1a Ctrl-Z)
  --pause S        let S seconds pass

The console is COM1 on QEMU's stdin and stdout; kernel and server messages go to COM2 (not
read). The machine is stopped at the end.
"""
import importlib.machinery
import importlib.util
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def printable(text: str) -> str:
    """Control characters as \\xNN, so TAP output (and the JUnit XML made of it) stays text."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    image = args.pop(0)
    timeout = 60.0
    if args[:1] == ["--timeout"]:
        args.pop(0)
        timeout = float(args.pop(0))
    adds = []
    while args[:1] == ["--add"] and len(args) > 1:
        args.pop(0)
        adds.append(args.pop(0))
    steps = []
    while args:
        kind = args.pop(0)
        if kind not in ("--expect", "--send", "--pause") or not args:
            print(f"console: bad step {kind!r}", file=sys.stderr)
            return 2
        steps.append((kind, args.pop(0)))
    workdir = tempfile.TemporaryDirectory(prefix="sonde-console-")
    if adds:
        run_path = Path(__file__).resolve().parents[2] / "tools" / "run"
        loader = importlib.machinery.SourceFileLoader("sonde_tools_run", str(run_path))
        spec = importlib.util.spec_from_loader(loader.name, loader)
        tools_run = importlib.util.module_from_spec(spec)
        loader.exec_module(tools_run)
        image = str(tools_run.make_image(Path(workdir.name), adds, None))
    command = [os.environ.get("QEMU", "qemu-system-x86_64"), "-cdrom", image, "-boot", "d",
               "-m", "256M", "-smp", "1", "-accel", "tcg,thread=single", "-display", "none",
               "-no-reboot", "-monitor", "none", "-serial", "stdio", "-serial", "null",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    qemu = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    seen = ""  # output since the last match
    count = failed = 0

    def read_some(deadline: float) -> bool:
        nonlocal seen
        ready, _, _ = select.select([qemu.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return False
        chunk = os.read(qemu.stdout.fileno(), 65536)
        if not chunk:
            return False
        seen += chunk.decode(errors="replace").replace("\r", "")
        return True

    try:
        for kind, value in steps:
            if kind == "--send":
                qemu.stdin.write(value.encode().decode("unicode_escape").encode("latin-1"))
                qemu.stdin.flush()
            elif kind == "--pause":
                end = time.monotonic() + float(value)
                while time.monotonic() < end:
                    read_some(end)
            else:
                pattern = re.compile(value, re.MULTILINE)
                deadline = time.monotonic() + timeout
                match = pattern.search(seen)
                while match is None and time.monotonic() < deadline:
                    if not read_some(deadline) and qemu.poll() is not None:
                        break
                    match = pattern.search(seen)
                count += 1
                if match is not None:
                    print(f"ok {count} - console shows {printable(value)}", flush=True)
                    seen = seen[match.end():]
                else:
                    failed += 1
                    print(f"not ok {count} - console shows {printable(value)}", flush=True)
                    for line in seen.splitlines()[-20:]:
                        print(f"# {printable(line)}", flush=True)
                    break
    finally:
        qemu.kill()
        qemu.wait()
    print(f"1..{count}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
