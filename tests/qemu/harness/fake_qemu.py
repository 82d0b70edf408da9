#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Stands in for qemu-system-x86_64 in the harness's own tests.

Reads the serial log path from `-serial file:PATH`, then follows the script in the
FAKE_QEMU_SCRIPT environment variable (JSON): {"lines": [...], "exit": N, "hang": bool,
"delay": seconds before the lines}. Writes its pid to FAKE_QEMU_PID if set.
"""
import json
import os
import sys
import time


def main() -> int:
    args = sys.argv[1:]
    log = None
    for i, arg in enumerate(args):
        if arg == "-serial" and args[i + 1].startswith("file:"):
            log = args[i + 1][len("file:"):]
    script = json.loads(os.environ.get("FAKE_QEMU_SCRIPT", "{}"))
    if os.environ.get("FAKE_QEMU_PID"):
        with open(os.environ["FAKE_QEMU_PID"], "w") as f:
            f.write(str(os.getpid()))
    time.sleep(script.get("delay", 0))
    with open(log, "w") as serial:
        for line in script.get("lines", []):
            serial.write(line + "\r\n")
            serial.flush()
            time.sleep(0.02)
    if script.get("hang"):
        while True:
            time.sleep(1)
    return script.get("exit", 1)


if __name__ == "__main__":
    sys.exit(main())
