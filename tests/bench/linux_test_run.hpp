// SPDX-License-Identifier: MIT
// Linux's own JIT on the anchor programs: loaded and run with BPF_PROG_TEST_RUN through
// Debian's libbpf, as bench_progs.h prescribes (socket filters, a 64-byte packet).
#pragma once

#include <stdint.h>

#include <string>

#include "bench_progs.h"

namespace bench {

class LinuxTestRun {
 public:
  // The `map` program's array, created and filled in the kernel. False (with `why`) when this
  // host cannot run the Linux column: built without libbpf, bpf() not permitted, JIT off.
  bool open(std::string& why);
  ~LinuxTestRun();

  // Loads `program` (its map reference pointing at the array); -1 with `why` on failure.
  int load(const eref_prog& program, std::string& why);
  // Runs `fd` `repeat` times in the kernel: the kernel's mean ns per run and r0's low 32 bits.
  bool run(int fd, uint32_t repeat, uint32_t& mean_ns, uint32_t& retval, std::string& why);

 private:
  int map_fd_ = -1;
};

}  // namespace bench
