#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Samples where a whole workload spends its guest time, function by function.

profile.py single-steps one operation exactly, which is too slow for a workload of hundreds of
thousands of instructions per step of interest (a tracing tool attached to a loop). This boots
ISO under QEMU (one CPU, -icount shift=0,align=off so guest time follows instructions), waits
until the serial console prints MARKER, then reads rip and cr3 through QEMU's monitor every
INTERVAL ms for SECONDS and prints how the samples fall into functions (the kernel's from the
first ELF, user addresses from the user ELF that fits their address space, as profile.py).
Samples follow QEMU's wall time, not guest instructions: what TCG makes slow (an int3's
exception, an address-space switch) weighs more than its instruction count (an int3 probe site
such as trace_sys_enter collects many samples). Use it to find where a workload goes, then
profile.py to count instructions.

    userland/kernel-bench/sample.py ISO build/microkernel/kernel.elf posix.elf trace.elf \\
        build/userland/linux-tests/posix_bench /usr/sbin/opensnoop --marker SAMPLE-START
"""
import argparse
import collections
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from profile import Names  # noqa: E402  (the same naming of addresses)

REGISTER = re.compile(r"\b(RIP|CR3)=([0-9a-f]+)")


def monitor_command(connection, command):
    """Sends one HMP command and returns its output up to the next prompt."""
    connection.sendall(command.encode() + b"\n")
    data = b""
    while not data.endswith(b"(qemu) "):
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("iso")
    parser.add_argument("elves", nargs="+", help="kernel ELF, then user ELFs")
    parser.add_argument("--marker", required=True, help="serial output that starts sampling")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=5, help="milliseconds between samples")
    parser.add_argument("--boot-timeout", type=float, default=600)
    parser.add_argument("--top", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        serial = os.path.join(directory, "serial.log")
        monitor = os.path.join(directory, "monitor.sock")
        qemu = subprocess.Popen(
            ["qemu-system-x86_64", "-cdrom", args.iso, "-boot", "d", "-m", "512M", "-smp", "1",
             "-accel", "tcg,thread=single", "-display", "none", "-no-reboot",
             "-serial", f"file:{serial}", "-monitor", f"unix:{monitor},server,nowait",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
             "-icount", "shift=0,align=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + args.boot_timeout
            while time.time() < deadline:
                if os.path.exists(serial) and args.marker in open(serial, errors="replace").read():
                    break
                if qemu.poll() is not None:
                    sys.exit("sample: QEMU stopped before the marker")
                time.sleep(0.2)
            else:
                sys.exit("sample: the marker never came")
            connection = socket.socket(socket.AF_UNIX)
            connection.connect(monitor)
            monitor_command(connection, "")  # the banner and first prompt
            steps = []
            end = time.time() + args.seconds
            while time.time() < end and qemu.poll() is None:
                try:
                    output = monitor_command(connection, "info registers")
                except OSError:
                    break  # the machine powered off: the workload ended
                found = dict(REGISTER.findall(output))
                if "RIP" in found and "CR3" in found:
                    steps.append((int(found["RIP"], 16), int(found["CR3"], 16) & ~0xfff))
                time.sleep(args.interval / 1000)
        finally:
            qemu.kill()
            qemu.wait()
    names = Names(args.elves, steps)
    totals = collections.Counter(names.name(rip, cr3) for rip, cr3 in steps)
    by_program = collections.Counter(names.name(rip, cr3).split(" ")[0] if rip < 0xffff800000000000
                                     else "kernel" for rip, cr3 in steps)
    print(f"samples: {len(steps)}")
    print("by program:")
    for name, count in by_program.most_common():
        print(f"  {100 * count / len(steps):5.1f}% {name}")
    print("by function:")
    for name, count in totals.most_common(args.top):
        print(f"  {100 * count / len(steps):5.1f}% {name}")


if __name__ == "__main__":
    sys.exit(main())
