#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boots a Sonde image in QEMU (TCG) and reports what the guest did, as TAP.

Modes:
  --mode tests   the guest prints `TEST <name> PASS` / `TEST <name> FAIL <reason>` lines and
                 ends the machine with the success code; every TEST line is a TAP case.
  --mode panic   the kernel must print a panic report and end with the panic code; the
                 report is checked with --expect (regexes, each a TAP case).
  --mode fatal   the kernel must print a one-line error and end with the failure code.
  --mode running the machine must reach --until (a regex) and still be running; the harness
                 then stops it (for images that, like tools/run's, never shut down).
  --mode poweroff the guest must end the machine itself with the success code (the POSIX
                 server powers off when /init exits with status 0).

--expect REGEX must match the serial log, --reject REGEX must not (each a TAP case).

The serial console goes to a log file. A run that outlives --timeout is killed and fails;
on any failure the tail of the serial log is printed. The time from QEMU start to the
root task's first line is printed as `boot time: N ms`.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# isa-debug-exit: QEMU exits with (code << 1) | 1 (see microkernel/include/sonde/abi/syscalls.hpp).
EXIT_SUCCESS, EXIT_FAILURE, EXIT_PANIC = 1, 3, 255
ROOT_TASK_STARTED = "kernel: starting root task"
KERNEL_STARTED = "Sonde microkernel"
TEST_LINE = re.compile(r"^TEST (\S+) (PASS|FAIL)(?: (.*))?$")


class Tap:
    def __init__(self):
        self.count = 0
        self.failed = 0

    def case(self, ok: bool, name: str, detail: str = ""):
        self.count += 1
        if not ok:
            self.failed += 1
        suffix = f" # {detail}" if detail and not ok else ""
        print(f"{'ok' if ok else 'not ok'} {self.count} - {name}{suffix}", flush=True)

    def comment(self, text: str):
        for line in text.splitlines():
            print(f"# {line}", flush=True)

    def finish(self):
        print(f"1..{self.count}", flush=True)
        return 1 if self.failed else 0


def first_line_seen(text: str) -> bool:
    at = text.find(ROOT_TASK_STARTED)
    return at >= 0 and "\n" in text[at + len(ROOT_TASK_STARTED) + 1:]


def boot(image: Path, log: Path, timeout: float, smp: int, memory: str, until=None, extra=None):
    """Runs QEMU until it exits, `until` appears in the serial log, or `timeout` passes.

    Returns (exit status or None if the harness stopped it, timed out, serial log, QEMU's
    own output, seconds from start to the root task's first line or None, seconds from start
    to the kernel's first line or None)."""
    command = [
        os.environ.get("QEMU", "qemu-system-x86_64"),
        "-cdrom", str(image), "-boot", "d",
        "-m", memory, "-smp", str(smp),
        # All virtual CPUs in one host thread: with one thread per CPU, a loaded host preempts
        # the CPU holding the kernel lock while the other spins for it (lock-holder
        # preemption), and a test can crawl for minutes. Interleavings still vary.
        "-accel", "tcg,thread=single",
        "-display", "none", "-no-reboot",
        "-serial", f"file:{log}",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-monitor", "none",
    ] + list(extra or [])
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    first_line_at = None
    kernel_at = None
    timed_out = False
    stopped = False
    while process.poll() is None:
        elapsed = time.monotonic() - start
        if elapsed > timeout:
            process.kill()
            timed_out = True
            break
        if (first_line_at is None or until is not None) and log.exists():
            text = log.read_text(errors="replace")
            if kernel_at is None and KERNEL_STARTED in text:
                kernel_at = elapsed
            if first_line_at is None and first_line_seen(text):
                first_line_at = elapsed
            if until is not None and until.search(text.replace("\r", "")):
                process.kill()
                stopped = True
                break
        time.sleep(0.01)
    process.wait()
    qemu_output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    serial = log.read_text(errors="replace") if log.exists() else ""
    if first_line_at is None and first_line_seen(serial):
        first_line_at = time.monotonic() - start  # finished between polls
    serial = serial.replace("\r", "")
    return ((None if stopped else process.returncode), timed_out, serial, qemu_output,
            first_line_at, kernel_at)


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("image", type=Path)
    parser.add_argument("--mode", choices=["tests", "panic", "fatal", "running", "poweroff"], default="tests")
    parser.add_argument("--expect", action="append", default=[],
                        help="regex the serial log must contain")
    parser.add_argument("--reject", action="append", default=[],
                        help="regex the serial log must not contain")
    parser.add_argument("--until", help="regex that ends a --mode running boot")
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--smp", type=int, default=1)
    parser.add_argument("--memory", default="256M")
    parser.add_argument("--log", type=Path, help="keep the serial log here")
    args = parser.parse_args()

    tap = Tap()
    if not args.image.exists():
        tap.case(False, "image exists", f"no such image: {args.image}")
        return tap.finish()

    if args.mode == "running" and not args.until:
        parser.error("--mode running needs --until")
    until = re.compile(args.until, re.MULTILINE) if args.mode == "running" else None
    with tempfile.TemporaryDirectory() as tmp:
        log = args.log or Path(tmp) / "serial.log"
        if log.exists():
            log.unlink()
        status, timed_out, serial, qemu_output, first_line, kernel_start = boot(
            args.image, log, args.timeout, args.smp, args.memory, until)

    if first_line is not None:
        kernel_part = ""
        if kernel_start is not None:
            kernel_part = (f"; firmware and GRUB {kernel_start * 1000:.0f} ms, kernel to ring 3 "
                           f"{(first_line - kernel_start) * 1000:.0f} ms")
        print(f"# boot time: {first_line * 1000:.0f} ms (QEMU start to the root task's first line, "
              f"{args.image.name}{kernel_part})", flush=True)

    if args.mode == "tests":
        seen = 0
        for line in serial.splitlines():
            match = TEST_LINE.match(line.strip())
            if match:
                seen += 1
                tap.case(match.group(2) == "PASS", match.group(1), match.group(3) or "")
        tap.case(not timed_out, "guest finished before the timeout",
                 f"killed after {args.timeout:.0f} s")
        tap.case(seen > 0, "guest reported tests", "no TEST lines in the serial log")
        tap.case(status == EXIT_SUCCESS, "guest shut down with the success code",
                 f"QEMU exit status {status}")
    elif args.mode == "poweroff":
        tap.case(not timed_out, "guest powered off before the timeout",
                 f"killed after {args.timeout:.0f} s")
        tap.case(status == EXIT_SUCCESS, "guest powered off with the success code",
                 f"QEMU exit status {status}")
        tap.case("PANIC" not in serial, "no kernel panic", "a panic was reported")
    elif args.mode == "running":
        tap.case(status is None and not timed_out, f"reached /{args.until}/ and kept running",
                 f"QEMU exit status {status}" if status is not None
                 else f"not reached in {args.timeout:.0f} s")
        tap.case("PANIC" not in serial, "no kernel panic", "a panic was reported")
    else:
        expected_status = EXIT_PANIC if args.mode == "panic" else EXIT_FAILURE
        tap.case(not timed_out, f"{args.mode} reported, not a timeout", f"killed after {args.timeout:.0f} s")
        tap.case(status == expected_status, f"QEMU exit status is {expected_status}",
                 f"QEMU exit status {status}")
        if args.mode == "fatal":
            tap.case("PANIC" not in serial, "not a kernel panic", "a panic was reported")
    for pattern in args.expect:
        tap.case(re.search(pattern, serial, re.MULTILINE) is not None,
                 f"serial log matches /{pattern}/", "not found")
    for pattern in args.reject:
        tap.case(re.search(pattern, serial, re.MULTILINE) is None,
                 f"serial log has no /{pattern}/", "found")

    if tap.failed:
        tap.comment(f"--- last lines of the serial log ({args.image.name}) ---")
        tap.comment(tail(serial))
        if qemu_output.strip():
            tap.comment("--- QEMU said ---")
            tap.comment(tail(qemu_output, 10))
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
