#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""docs/LINUX.md's system call table against the POSIX server's dispatch table
(servers/posix/kernel/syscall_list.h, which syscall_table.cpp expands): every call the server dispatches has a row (done or
partial), every row names a call the server dispatches, numbers and names agree, and the count
line above the table is right. Prints `linux: N system calls implemented (D done, P partial)`.

usage: check_syscall_table.py SOURCE_ROOT"""
import re
import sys
from collections import Counter
from pathlib import Path


def main() -> int:
    root = Path(sys.argv[1])
    table = (root / "servers/posix/kernel/syscall_list.h").read_text()
    dispatched = {int(n): name for n, name in re.findall(r"ENTRY\((\d+), (\w+)\)", table)
                  if name != "name"}
    doc = (root / "docs/LINUX.md").read_text()
    rows = re.findall(r"^\| (\d+) \| (\w+) \| (\w+) \|", doc, re.M)
    problems = []
    documented = {}
    for number, name, status in rows:
        number = int(number)
        if number in documented:
            problems.append(f"system call {number} has two rows")
        documented[number] = (name, status)
        if status not in ("done", "partial", "ENOSYS"):
            problems.append(f"system call {number} ({name}): unknown status {status!r}")
        if status != "ENOSYS" and number not in dispatched:
            problems.append(f"system call {number} ({name}) is {status} but not dispatched")
        elif number in dispatched and dispatched[number] != name:
            problems.append(f"system call {number}: docs say {name}, the table {dispatched[number]}")
    for number, name in sorted(dispatched.items()):
        if number not in documented:
            problems.append(f"system call {number} ({name}) is dispatched but has no row")
    counts = Counter(status for _, status in documented.values())
    implemented = counts["done"] + counts["partial"]
    stated = re.search(r"^(\d+) entries: (\d+) done, (\d+) partial", doc, re.M)
    if stated is None or (int(stated[1]), int(stated[2]), int(stated[3])) != (
            len(documented), counts["done"], counts["partial"]):
        problems.append(f"the count line should read `{len(documented)} entries: "
                        f"{counts['done']} done, {counts['partial']} partial`")
    for problem in problems:
        print(f"syscall table: {problem}")
    print(f"linux: {implemented} system calls implemented "
          f"({counts['done']} done, {counts['partial']} partial; docs/LINUX.md)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
