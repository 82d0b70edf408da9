// SPDX-License-Identifier: MIT
// The record of a kprobe or uprobe event at a hit: its fetch arguments evaluated over the
// registers and the traced memory, laid out as the event's format file says.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "trace/probe_events.hpp"

namespace trace {

// Linux's x86-64 struct pt_regs.
struct PtRegs {
  uint64_t r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs, flags,
      sp, ss;
};
static_assert(sizeof(PtRegs) == 21 * 8);

// The traced memory (the POSIX server's for kprobes, the process's for uprobes).
class TracedMemory {
 public:
  // Copies `size` bytes at `address`; false if any of it cannot be read.
  virtual bool read(void* destination, uint64_t address, size_t size) = 0;

 protected:
  ~TracedMemory() = default;
};

// What the hit is about besides the registers.
struct FetchContext {
  uint64_t probe_ip;   // the probed address (__probe_ip), or the function for return probes
  uint64_t return_ip;  // return probes: where the function returns to (__probe_ret_ip)
  const char* comm;    // the current task's comm ($comm)
};

// Builds the record (common fields, the probe's fields, then the strings its __data_loc
// fields point to) into `out`; the record's size, or 0 if `capacity` is too small. A value
// that cannot be read is 0, a string that cannot be read "(fault)", as Linux's fetch.
size_t build_probe_record(const ProbeDefinition& probe, uint16_t event_id, int32_t pid,
                          const PtRegs& regs, const FetchContext& hit, TracedMemory& memory,
                          uint8_t* out, size_t capacity);

}  // namespace trace
