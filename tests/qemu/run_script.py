#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs a guest script through `tools/run --script` and compares its stdout and exit status
with what is expected, as TAP.

usage: run_script.py TOOLS_RUN SCRIPT EXPECTED_OUTPUT EXPECTED_STATUS [--add HOST:GUEST]...
"""
import subprocess
import sys
from pathlib import Path


def main() -> int:
    tools_run, script, expected, status = sys.argv[1:5]
    extra = sys.argv[5:]
    result = subprocess.run([tools_run, "--no-build", "--script", script, "--timeout", "120"] + extra,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output = result.stdout.decode(errors="replace")
    want = Path(expected).read_text()
    cases = [
        (result.returncode == int(status), f"exit status is {status}", f"got {result.returncode}"),
        (output == want, "stdout matches " + Path(expected).name, "differs"),
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


if __name__ == "__main__":
    sys.exit(main())
