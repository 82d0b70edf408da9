// SPDX-License-Identifier: MIT
// Clock calibration: count TSC ticks over 10 ms of the PIT's channel 2.
#include "kernel/clock.hpp"

#include "arch/x86_64/cpu.hpp"
#include "kernel/console.hpp"
#include "kernel/memory.hpp"
#include "kernel/panic.hpp"
#include "sonde/abi/clock.hpp"

namespace kernel {
namespace {

namespace abi = sonde::abi;

constexpr uint32_t kPitHz = 1193182;
constexpr uint32_t kCalibrationMs = 10;
uint64_t page_physical = 0;

abi::ClockPage* clock_page() {
  return static_cast<abi::ClockPage*>(physical_to_virtual(page_physical));
}

bool invariant_tsc() {
  uint32_t eax, ebx, ecx, edx;
  asm volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0x80000000u));
  if (eax < 0x80000007u) return false;
  asm volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0x80000007u));
  return (edx & (1u << 8)) != 0;
}

// PIT channel 2 in one-shot mode, gated through port 0x61; its output (bit 5) rises when the
// count runs out. Returns TSC ticks per second, or 0 if the PIT never finished.
uint64_t measure_tsc_hz() {
  uint32_t count = kPitHz * kCalibrationMs / 1000;
  uint8_t gate = arch::inb(0x61);
  arch::outb(0x61, static_cast<uint8_t>((gate & ~0x02) | 0x01));  // gate on, speaker off
  arch::outb(0x43, 0xb0);                                         // channel 2, mode 0, lo/hi
  arch::outb(0x42, count & 0xff);
  arch::outb(0x42, (count >> 8) & 0xff);
  uint64_t start = arch::read_tsc();
  uint64_t polls = 0;
  while ((arch::inb(0x61) & 0x20) == 0) {
    if (++polls > 100000000) return 0;
  }
  uint64_t ticks = arch::read_tsc() - start;
  arch::outb(0x61, gate);
  return ticks * (1000 / kCalibrationMs);
}

}  // namespace

void clock_init() {
  page_physical = frames().allocate();
  if (page_physical == 0) fatal("boot: out of memory for the clock page");
  abi::ClockPage* clock = clock_page();
  auto* bytes = reinterpret_cast<uint8_t*>(clock);
  for (int i = 0; i < 4096; ++i) bytes[i] = 0;
  uint64_t hz = measure_tsc_hz();
  uint32_t flags = invariant_tsc() ? abi::kClockInvariantTsc : 0;
  if (hz == 0) {
    printk("clock: warning: the PIT did not answer; assuming a 1 GHz TSC\n");
    hz = 1000000000;
  } else {
    flags |= abi::kClockCalibrated;
  }
  clock->sequence = 1;
  clock->tsc_hz = hz;
  clock->shift = abi::kClockShift;
  clock->mult = abi::clock_mult(hz, abi::kClockShift);
  clock->ns_base = 0;
  clock->tsc_base = arch::read_tsc();
  clock->flags = flags;
  __atomic_store_n(&clock->sequence, 2, __ATOMIC_RELEASE);
  printk("clock: TSC %lu MHz (calibrated against the PIT%s)\n", hz / 1000000,
         (flags & abi::kClockInvariantTsc) != 0 ? ", invariant" : "");
}

uint64_t clock_page_physical() { return page_physical; }

uint64_t clock_now_ns() {
  if (page_physical == 0) return 0;
  const abi::ClockPage* clock = clock_page();
  return clock->ns_base +
         abi::clock_delta_ns(arch::read_tsc() - clock->tsc_base, clock->mult, clock->shift);
}

}  // namespace kernel
