// SPDX-License-Identifier: MIT
// Load averages, as Linux's kernel/sched/loadavg.c keeps them: every LOAD_FREQ (5 s and a tick)
// the threads that run or wait to run (here: every thread of a live process that is not waiting
// in a system call, and not stopped) move the 1, 5 and 15 minute averages, in Linux's fixed
// point (11 bits). They live in `avenrun`, under Linux's name and layout, which kallsyms lists
// and tools read directly (bpftrace's loads.bt); /proc/loadavg and sysinfo show them.
#pragma once

#include <stddef.h>
#include <stdint.h>

extern "C" unsigned long avenrun[3];

namespace posix {

// Steps the averages for every LOAD_FREQ that ended by `now_ns` (the server's timer calls it).
void update_load_averages(uint64_t now_ns);
// When the next step is due, for the timer (arm_timer).
uint64_t next_load_step();
// Linux's /proc/loadavg line: the averages, runnable/total threads and the last pid.
size_t format_loadavg(char* out, size_t size, int last_pid);
// Threads that run or wait to run now (/proc/stat's procs_running).
unsigned long runnable_threads();
// sysinfo's loads: the averages shifted to SI_LOAD_SHIFT (16) bits.
void sysinfo_loads(uint64_t (&loads)[3]);

// One step of Linux's calc_load: `load` moves towards `active` (both fixed point) by `exp`.
constexpr unsigned long calc_load(unsigned long load, unsigned long exp, unsigned long active) {
  constexpr unsigned long kFixed1 = 1ul << 11;
  unsigned long next = load * exp + active * (kFixed1 - exp);
  if (active >= load) next += kFixed1 - 1;
  return next / kFixed1;
}

}  // namespace posix
