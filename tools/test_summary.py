#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Counts results of a `meson test` run: every GoogleTest case, every TAP line, and every
plain test, then prints the suites' own summary lines and `N passed, M failed`."""
import json
import re
import sys
import xml.etree.ElementTree as et
from pathlib import Path

# Lines a suite prints that a person wants to see even when everything passes.
HIGHLIGHT = re.compile(r"^(#\s*)?(bpf_conformance: |prevail: |boot time: |fuzz: |linux: )")


def junit_root(junit: Path):
    """The JUnit report's root; characters XML forbids (a test's raw control bytes in its
    output) are dropped first if the file does not parse as it is."""
    try:
        return et.parse(junit).getroot()
    except et.ParseError:
        text = junit.read_text(errors="replace")
        text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)
        return et.fromstring(text)


def main() -> int:
    builddir = Path(sys.argv[1])
    meson_status = int(sys.argv[2])
    logs = builddir / "meson-logs"

    passed = failed = skipped = 0
    failed_names = []
    junit = logs / "testlog.junit.xml"
    counted_suites = set()
    if junit.exists():
        for suite in junit_root(junit).iter("testsuite"):
            for case in suite.iter("testcase"):
                bad = case.find("failure") is not None or case.find("error") is not None
                if case.find("skipped") is not None:
                    skipped += 1
                    continue
                if bad:
                    failed += 1
                    failed_names.append(f"{suite.get('name')}: {case.get('name')}")
                else:
                    passed += 1

    # A test that crashed after reporting only good subtests still failed as a whole.
    jsonlog = logs / "testlog.json"
    if jsonlog.exists():
        for line in jsonlog.read_text().splitlines():
            entry = json.loads(line)
            name = entry["name"]
            if entry["result"] in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"):
                if not any(n.split(":")[0].endswith(name) or name in n for n in failed_names):
                    failed += 1
                    failed_names.append(f"{name} (exit {entry.get('returncode')}, {entry['result']})")
            for out in (entry.get("stdout") or "").splitlines():
                if HIGHLIGHT.match(out):
                    print(out.lstrip("# "))

    if meson_status != 0 and failed == 0:
        failed += 1
        failed_names.append(f"meson test exited with {meson_status}")
        print((logs / "tools-test.out").read_text()[-4000:])

    for name in failed_names:
        print(f"FAILED: {name}")
    if failed:
        print(f"(full output: {logs / 'tools-test.out'} and {logs / 'testlog.txt'})")
    if skipped:
        print(f"({skipped} skipped)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
