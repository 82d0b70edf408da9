#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs a guest script through `tools/run --script` and compares its stdout and exit status
with what is expected, as TAP.

usage: run_script.py [--linux] TOOLS_RUN SCRIPT EXPECTED_OUTPUT EXPECTED_STATUS [--add HOST:GUEST]...

With --linux the script runs on Debian's Linux 6.1 kernel in the same QEMU (`tools/run --linux`)
and its output is compared with the same expected file, which Sonde's run of the script
matches exactly: so the test says that Sonde prints what Linux prints. Only what differs
between any two runs of Linux is masked (MASKS; docs/LINUX-VM.md says why for each), and a
script whose Linux output differs for a documented reason has NAME.linux.expected beside it.
Without Debian's kernel (tools/setup-linux could not fetch it) the test is skipped.
"""
import re
import subprocess
import sys
from pathlib import Path

# Masks applied to both outputs before comparing with Linux's (docs/LINUX-VM.md).
TRACE_LINE = re.compile(r"^( *)(\S.*?)-(PID|\d+) +\[(\d{3})\] (.)(.)(...) ", re.MULTILINE)


def mask_trace_line(match):
    # The CPU that ran the event (Linux uses both CPUs, Sonde's hits report CPU 0) and the
    # need-resched flag (set by timer ticks) differ between any two runs of Linux.
    return f"{match.group(2)}-{match.group(3)} [CPU] {match.group(5)}.{match.group(7)} "


def mask(text: str) -> str:
    return TRACE_LINE.sub(mask_trace_line, text)


def same_as_linux(linux: str, expected: str) -> bool:
    """Equal after masking, where Linux's comm `<...>` stands for any comm: Linux's trace
    shows a task's comm only once a context switch saved it, which timing decides."""
    ours, theirs = mask(expected).splitlines(), mask(linux).splitlines()
    if len(ours) != len(theirs):
        return False
    for our, their in zip(ours, theirs):
        if our != their and not (their.startswith("<...>-") and
                                 re.sub(r"^\S+?-(?=(?:PID|\d+) \[CPU\])", "<...>-", our) == their) \
                and not (their.startswith("<...> ") and re.sub(r"^\S+ ", "<...> ", our) == their):
            # (the second form: a script that cut the pid and CPU out of its trace lines)
            return False
    return True


def compare_with_linux(tools_run, script, expected, status, extra) -> int:
    setup = subprocess.run([str(Path(tools_run).parent / "setup-linux")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if setup.returncode != 0:
        print("1..0 # SKIP Debian's Linux kernel is not available: "
              + setup.stderr.decode(errors="replace").strip().replace("\n", " "))
        return 0
    linux_expected = Path(str(expected).replace(".expected", ".linux.expected"))
    if linux_expected.exists():
        expected = linux_expected
    return run(tools_run, script, expected, status, extra, ["--linux"], same_as_linux)


def run(tools_run, script, expected, status, extra, mode, same) -> int:
    result = subprocess.run([tools_run, "--no-build", "--script", script, "--timeout", "120"]
                            + mode + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output = result.stdout.decode(errors="replace")
    want = Path(expected).read_text()
    cases = [
        (result.returncode == int(status), f"exit status is {status}", f"got {result.returncode}"),
        (same(output, want), "stdout matches " + Path(expected).name, "differs"),
        ("SONDE" not in output and "posix:" not in output, "no boot or server messages on stdout",
         "found"),
    ]
    failed = 0
    for number, (ok, name, detail) in enumerate(cases, 1):
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} {number} - {name}{'' if ok else ' # ' + detail}")
    if failed:
        for line in ("--- stdout ---", *output.splitlines(), "--- expected ---", *want.splitlines(),
                     "--- stderr (tail) ---",
                     *result.stderr.decode(errors="replace").splitlines()[-30:]):
            print(f"# {line}")
    print(f"1..{len(cases)}")
    return 1 if failed else 0


def main() -> int:
    arguments = sys.argv[1:]
    linux = bool(arguments) and arguments[0] == "--linux"
    if linux:
        arguments = arguments[1:]
    tools_run, script, expected, status = arguments[:4]
    extra = arguments[4:]
    if linux:
        return compare_with_linux(tools_run, script, expected, status, extra)
    return run(tools_run, script, expected, status, extra, [], lambda a, b: a == b)


if __name__ == "__main__":
    sys.exit(main())
