#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs kernel-bench.iso twice under QEMU: plain TCG (TSC ticks) and with -icount shift=0
(guest instructions, derived from the calibration line), and prints one table.

TCG's TSC is not a real CPU's cycle counter: the plain run's ticks only compare Sonde with
itself. The -icount run counts guest instructions exactly and is repeatable."""
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "qemu"))
from run import boot  # noqa: E402

# Published seL4 figure (docs/BENCHMARKS.md gives the source): one-way IPC, inter address
# space, hot cache, Core i7 4770 (Haswell), 301 cycles; a round trip is two of those.
SEL4_ROUND_TRIP_CYCLES = 2 * 301

LINE = re.compile(r"^BENCH (\S+) (\d+)$", re.MULTILINE)


def run(image: Path, extra):
    with tempfile.TemporaryDirectory() as directory:
        log = Path(directory) / "serial.log"
        status, timed_out, serial, qemu_output, _, _ = boot(image, log, 300, 1, "256M", None, extra)
    if timed_out or "kernel-bench: done" not in serial:
        print(serial[-3000:])
        print(qemu_output[-2000:])
        raise SystemExit("kernel-bench: the benchmark run failed")
    return {name: int(value) for name, value in LINE.findall(serial)}


def main():
    image = Path(sys.argv[1])
    print("kernel-bench: plain TCG run (TSC ticks)", flush=True)
    plain = run(image, [])
    print("kernel-bench: -icount shift=0 run (guest instructions)", flush=True)
    counted = run(image, ["-icount", "shift=0,align=off"])
    per_tick = counted.pop("calibration_instructions_per_tick_x1000") / 1000.0
    plain.pop("calibration_instructions_per_tick_x1000", None)
    print(f"calibration: {per_tick:.3f} guest instructions per TSC tick under -icount")
    print(f"{'operation':45} {'TSC ticks (TCG)':>16} {'guest instructions':>19}")
    for name, ticks in plain.items():
        instructions = counted.get(name, 0) * per_tick
        print(f"{name:45} {ticks:>16} {instructions:>19.0f}")
    print(f"seL4 reference: IPC round trip {SEL4_ROUND_TRIP_CYCLES} cycles "
          "(2 x 301, Haswell, SOSP'13; see docs/BENCHMARKS.md)")


if __name__ == "__main__":
    main()
