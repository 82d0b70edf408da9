#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tests of tests/qemu/run.py itself, with a fake QEMU: verdicts, timeouts, TAP. Prints TAP."""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNER = HERE.parent / "run.py"
FAKE = HERE / "fake_qemu.py"

results = []


def run(script: dict, *args: str, timeout: float = 20):
    """Runs the runner on a dummy image with the fake QEMU; returns (status, stdout, seconds, pid)."""
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "image.iso"
        image.write_bytes(b"")
        pid_file = Path(tmp) / "pid"
        env = dict(os.environ, QEMU=str(FAKE), FAKE_QEMU_SCRIPT=json.dumps(script),
                   FAKE_QEMU_PID=str(pid_file))
        start = time.monotonic()
        done = subprocess.run([sys.executable, str(RUNNER), str(image), *args], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout)
        seconds = time.monotonic() - start
        pid = int(pid_file.read_text()) if pid_file.exists() else None
        return done.returncode, done.stdout, seconds, pid


def check(name: str, ok: bool, output: str = ""):
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {name}", flush=True)
    if not ok and output:
        for line in output.splitlines():
            print(f"# {line}")


def alive(pid) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child that its parent has reaped is gone; a zombie would still answer.
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


BOOT = ["Sonde microkernel", "kernel: starting root task", "root: first line"]

status, out, _, _ = run({"lines": BOOT + ["TEST a PASS", "TEST b PASS"], "exit": 1})
check("passing guest tests: runner succeeds, one TAP case per TEST line",
      status == 0 and "ok 1 - a" in out and "ok 2 - b" in out and "not ok" not in out, out)
check("boot time is printed from QEMU start to the root task's first line",
      "# boot time: " in out and "kernel to ring 3" in out, out)

status, out, _, _ = run({"lines": BOOT + ["TEST a PASS", "TEST b FAIL wrong answer", "last words"],
                         "exit": 3})
check("a failing guest test fails the run with its reason and the serial tail",
      status != 0 and "not ok 2 - b # wrong answer" in out and "# last words" in out
      and "QEMU exit status 3" in out, out)

status, out, _, _ = run({"lines": BOOT, "exit": 1})
check("a guest that reports no tests fails", status != 0 and "no TEST lines" in out, out)

status, out, seconds, pid = run({"lines": BOOT + ["TEST a PASS"], "hang": True}, "--timeout", "2")
check("a hanging guest is killed at the timeout and reported as such",
      status != 0 and "killed after 2 s" in out and seconds < 10, out)
check("the hung QEMU process is gone afterwards", not alive(pid), f"pid {pid} still alive")

panic_lines = BOOT[:1] + ["KERNEL PANIC: page fault (vector 14) error code 0x2", "KERNEL PANIC END"]
status, out, _, _ = run({"lines": panic_lines, "exit": 255}, "--mode", "panic",
                        "--expect", "^KERNEL PANIC: page fault \\(vector 14\\)")
check("an expected panic with the expected report passes", status == 0, out)
status, out, _, _ = run({"lines": panic_lines, "exit": 255}, "--mode", "panic",
                        "--expect", "vector 13")
check("a panic report missing an expected line fails", status != 0 and "not found" in out, out)
status, out, _, _ = run({"lines": BOOT[:1], "hang": True}, "--mode", "panic", "--timeout", "2")
check("a hang where a panic was expected is a timeout, not a pass",
      status != 0 and "killed after 2 s" in out, out)

status, out, _, _ = run({"lines": ["boot: missing boot module 'root' (the root task)"], "exit": 3},
                        "--mode", "fatal", "--expect", "missing boot module", "--reject", "PANIC")
check("an expected one-line error with the failure code passes", status == 0, out)
status, out, _, _ = run({"lines": ["KERNEL PANIC: oops"], "exit": 255}, "--mode", "fatal")
check("a panic where a one-line error was expected fails", status != 0, out)

status, out, _, pid = run({"lines": BOOT + ["idle now"], "hang": True}, "--mode", "running",
                          "--until", "^idle now$", "--timeout", "10")
check("running mode passes once the line appears, and stops QEMU",
      status == 0 and not alive(pid), out)
status, out, _, _ = run({"lines": BOOT, "exit": 1}, "--mode", "running", "--until", "^idle now$")
check("running mode fails when the machine exits instead", status != 0, out)

print(f"1..{len(results)}")
sys.exit(0 if all(results) else 1)
