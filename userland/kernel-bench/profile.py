#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Counts the guest instructions of one kernel-bench operation, function by function.

Boots kernel-bench.iso under QEMU (-icount, gdb stub), stops at START (a user address in
kernel-bench.elf, e.g. a `syscall` in a timed loop) on its Nth hit, single-steps until rip is
END, and prints the functions the instructions ran in (in order, then totals); END counts
only in START's address space. Single steps
count exactly what -icount counts (a `rep` iteration is one instruction). User addresses are
named from the user ELF that fits their address space best (servers and programs share
addresses such as 0x401000), shown as "ELF function".

    userland/kernel-bench/profile.py build/images/kernel-bench.iso \
        build/microkernel/kernel-test.elf build/userland/kernel-bench/kernel-bench.elf \
        0x401a36 0x401a38 --hit 2

With PROFILE_TRACE=FILE set, every rip stepped through is also written to FILE (a line each:
the hex address and the ELF it is named from), for addr2line to map to source lines.
"""
import argparse
import bisect
import collections
import os
import random
import subprocess
import sys
import tempfile
import time

GDB_SCRIPT = """
import gdb
gdb.execute("set pagination off")
gdb.execute("target remote :{port}")
gdb.execute("hbreak *{start:#x}")
if {condition!r}:
    gdb.execute("condition 1 {condition}")
if {hit} > 1:
    gdb.execute("ignore 1 {skip}")
gdb.execute("continue")
gdb.execute("delete")
space = int(gdb.parse_and_eval("$cr3")) & 0xfffffffffffff000
with open("{out}", "w") as f:
    for i in range({limit}):
        gdb.execute("stepi", to_string=True)
        rip = int(gdb.parse_and_eval("$pc")) & 0xffffffffffffffff
        cr3 = int(gdb.parse_and_eval("$cr3")) & 0xfffffffffffff000
        f.write("%x %x\\n" % (rip, cr3))
        if rip == {end:#x} and cr3 == space:
            break
gdb.execute("kill")
"""


def symbols(elf):
    """(start, end, name) of the ELF's functions, sorted."""
    table = []
    out = subprocess.run(["nm", "-n", "-S", "-C", elf], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[2] in "tTwW":
            start = int(parts[0], 16)
            table.append((start, start + int(parts[1], 16), parts[3]))
        elif len(parts) == 3 and parts[1] in "tTwW":  # no size
            start = int(parts[0], 16)
            table.append((start, start + 1, parts[2]))
    table.sort()
    return table


class Names:
    """Names addresses: the kernel's from the first ELF; a user address from the user ELF that
    best explains its address space (several programs share addresses such as 0x401000, so each
    page-table root is matched with the ELF whose functions cover most of its addresses)."""

    def __init__(self, elves, steps):
        self.tables = [(elf, symbols(elf)) for elf in elves]
        self.starts = [[entry[0] for entry in table] for _, table in self.tables]
        self.space_elf = {}
        self.starts_cache = {}
        by_space = collections.defaultdict(list)
        for rip, cr3 in steps:
            if rip < KERNEL_HALF:
                by_space[cr3].append(rip)
        for cr3, rips in by_space.items():
            sample = rips[:: max(1, len(rips) // 500)]
            # The ELF in which most of these addresses start an instruction: programs share
            # ranges (0x401000...), but rarely instruction boundaries.
            best, best_hits = None, -1
            for index in range(1, len(self.tables)):
                starts = self.instruction_starts(index)
                hits = sum(1 for rip in sample if rip in starts)
                if hits > best_hits:
                    best, best_hits = index, hits
            self.space_elf[cr3] = best

    def instruction_starts(self, index):
        if index not in self.starts_cache:
            out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", self.tables[index][0]],
                                 capture_output=True, text=True).stdout
            found = set()
            for line in out.splitlines():
                head = line.split(":", 1)[0].strip()
                if line.startswith("  ") and head:
                    try:
                        found.add(int(head, 16))
                    except ValueError:
                        pass
            self.starts_cache[index] = found
        return self.starts_cache[index]

    def lookup(self, index, rip, exact=False):
        table, starts = self.tables[index][1], self.starts[index]
        i = bisect.bisect_right(starts, rip) - 1
        if i < 0:
            return None
        start, end, name = table[i]
        if exact and rip >= end:
            return None
        return name

    def elf(self, rip, cr3):
        """The ELF an address is named from: the kernel's for kernel addresses."""
        index = 0 if rip >= KERNEL_HALF else self.space_elf.get(cr3)
        return self.tables[index][0] if index is not None else "user"

    def name(self, rip, cr3):
        if rip >= KERNEL_HALF:
            return self.lookup(0, rip) or "?"
        index = self.space_elf.get(cr3)
        if index is None:
            return "user"
        program = os.path.basename(self.tables[index][0])
        found = self.lookup(index, rip)
        return f"{program} {found}" if found else f"{program} ?"


KERNEL_HALF = 0xffff800000000000


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("iso")
    parser.add_argument("elves", nargs="+", help="kernel ELF, then user ELFs")
    parser.add_argument("start", type=lambda s: int(s, 0))
    parser.add_argument("end", type=lambda s: int(s, 0))
    parser.add_argument("--hit", type=int, default=1)
    parser.add_argument("--limit", type=int, default=20000)
    parser.add_argument("--condition", default="",
                        help="a gdb condition for START (e.g. '$rax == 0x57': other programs "
                        "and servers may have code at the same address)")
    args = parser.parse_args()
    port = 20000 + random.randrange(20000)
    with tempfile.TemporaryDirectory() as directory:
        trace = os.path.join(directory, "trace")
        script = os.path.join(directory, "steps.py")
        with open(script, "w") as f:
            f.write(GDB_SCRIPT.format(port=port, start=args.start, end=args.end, hit=args.hit,
                                      skip=args.hit - 1, out=trace, limit=args.limit,
                                      condition=args.condition))
        qemu = subprocess.Popen(
            ["qemu-system-x86_64", "-cdrom", args.iso, "-boot", "d", "-m", "256M", "-smp", "1",
             "-accel", "tcg,thread=single", "-display", "none", "-no-reboot",
             "-serial", f"file:{directory}/serial.log", "-monitor", "none",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
             "-icount", "shift=0,align=off", "-gdb", f"tcp::{port}", "-S"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        subprocess.run(["gdb", "-batch", "-nx", "-ex", f"source {script}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
        qemu.kill()
        qemu.wait()
        steps = [tuple(int(word, 16) for word in line.split()) for line in open(trace)
                 if line.strip()]
    names = Names(args.elves, steps)
    if os.environ.get("PROFILE_TRACE"):
        # Each rip with the ELF it was named from ("kernel" for kernel addresses).
        with open(os.environ["PROFILE_TRACE"], "w") as f:
            f.write("".join("%x %s\n" % (rip, names.elf(rip, cr3)) for rip, cr3 in steps))
    rips = steps
    runs = []
    totals = collections.Counter()
    for rip, cr3 in steps:
        n = names.name(rip, cr3)
        totals[n] += 1
        if runs and runs[-1][0] == n:
            runs[-1][1] += 1
        else:
            runs.append([n, 1])
    print(f"instructions: {len(rips)}")
    for n, count in runs:
        print(f"  {count:5} {n}")
    print("by function:")
    for n, count in totals.most_common():
        print(f"  {count:5} {n}")


if __name__ == "__main__":
    sys.exit(main())
