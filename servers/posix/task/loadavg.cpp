// SPDX-License-Identifier: MIT
// Load averages (task/loadavg.hpp).
#include "task/loadavg.hpp"

#include "rt/format.hpp"
#include "task/process.hpp"

unsigned long avenrun[3];

namespace posix {

namespace {

constexpr unsigned long kFixedShift = 11;  // FSHIFT
constexpr unsigned long kFixed1 = 1ul << kFixedShift;
constexpr unsigned long kExp[3] = {1884, 2014, 2037};  // EXP_1, EXP_5, EXP_15
// LOAD_FREQ: 5 s and one tick (HZ 100 here, as the kernel's timer).
constexpr uint64_t kLoadFreqNs = 5'000'000'000ull + 10'000'000ull;

uint64_t next_step = 0;

// Linux's numbers: one busy thread for one step from idle is 164/2048 (/proc/loadavg 0.08);
// an average falls towards 0 and rises to 1.00 for good.
static_assert(calc_load(0, kExp[0], kFixed1) == 164);
static_assert(calc_load(164, kExp[0], 0) == 150);
static_assert(calc_load(kFixed1, kExp[2], kFixed1) == kFixed1);

// nr_running() + nr_uninterruptible: threads not waiting in a call (Linux's R state).
unsigned long active_threads(unsigned long* total) {
  unsigned long active = 0, all = 0;
  for (Process* p = first_process(); p != nullptr; p = p->next) {
    if (p->state == ProcessState::kZombie) continue;
    for (const Thread* t = p->threads; t != nullptr; t = t->next) {
      ++all;
      if (!t->blocked && !p->stopped) ++active;
    }
  }
  if (total != nullptr) *total = all;
  return active;
}

unsigned long load_int(unsigned long x) { return x >> kFixedShift; }
unsigned long load_frac(unsigned long x) { return load_int((x & (kFixed1 - 1)) * 100); }

}  // namespace

void update_load_averages(uint64_t now_ns) {
  if (next_step == 0) next_step = now_ns + kLoadFreqNs;  // the first step, LOAD_FREQ from now
  if (now_ns < next_step) return;
  unsigned long active = active_threads(nullptr) * kFixed1;
  // Steps missed (the server was busy past a deadline) count the same threads, as Linux's
  // calc_load_n after a tickless stretch.
  for (int steps = 0; now_ns >= next_step && steps < 1000; ++steps) {
    for (int i = 0; i < 3; ++i) avenrun[i] = calc_load(avenrun[i], kExp[i], active);
    next_step += kLoadFreqNs;
  }
  if (now_ns >= next_step) next_step = now_ns + kLoadFreqNs;
}

uint64_t next_load_step() { return next_step; }

unsigned long runnable_threads() { return active_threads(nullptr); }

size_t format_loadavg(char* out, size_t size, int last_pid) {
  unsigned long total = 0;
  unsigned long running = active_threads(&total);
  unsigned long shown[3];
  for (int i = 0; i < 3; ++i) shown[i] = avenrun[i] + kFixed1 / 200;  // rounded to 1/100
  return rt::format_to(out, size, "%lu.%02lu %lu.%02lu %lu.%02lu %lu/%lu %d\n", load_int(shown[0]),
                       load_frac(shown[0]), load_int(shown[1]), load_frac(shown[1]),
                       load_int(shown[2]), load_frac(shown[2]), running, total, last_pid);
}

void sysinfo_loads(uint64_t (&loads)[3]) {
  for (int i = 0; i < 3; ++i) loads[i] = uint64_t{avenrun[i]} << (16 - kFixedShift);
}

}  // namespace posix
