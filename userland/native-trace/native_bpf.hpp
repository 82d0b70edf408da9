// SPDX-License-Identifier: MIT
// bpf() and perf_event_open for a native Sonde program, straight through the trace server's
// TraceService (proto/trace.capnp) through the generated client classes: the calls the POSIX
// server forwards for Linux processes, made by the program itself (docs/NATIVE.md).
//
// A native client has no Linux memory the trace server could ask the POSIX server for: every
// byte a call reads (the attr, instructions, keys, strings) travels in the request's `memory`
// ranges, and every byte it writes comes back in the reply. The program names the buffers the
// trace server may read (and write) with expose(); their addresses are the program's own, so
// the pointers in an attr are plain pointers. A call starts with no ranges and adds the one the
// server asks for (needMemory) until it runs.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "trace.capnp.hpp"

namespace native_trace {

// Linux's ABI values the example uses (include/uapi/linux/bpf.h, perf_event.h).
inline constexpr int kBpfMapCreate = 0;
inline constexpr int kBpfMapLookupElem = 1;
inline constexpr int kBpfProgLoad = 5;
inline constexpr uint32_t kBpfMapTypeArray = 2;
inline constexpr uint32_t kBpfProgTypeKprobe = 2;
inline constexpr uint32_t kPerfTypeKprobe = 6;  // /sys/bus/event_source/devices/kprobe/type
inline constexpr uint64_t kPerfEventIocEnable = 0x2400;
inline constexpr uint64_t kPerfEventIocDisable = 0x2401;
inline constexpr uint64_t kPerfEventIocSetBpf = 0x40042408;

class NativeBpf {
 public:
  static constexpr uint32_t kMaxRegions = 16;
  static constexpr uint32_t kMaxRanges = 16;
  static constexpr uint32_t kMaxTries = 16;

  explicit NativeBpf(sonde::proto::TraceService::Client& client) : client_(client) {}

  // Lets the trace server read [start, start + size) of this program (and write it when
  // `writable`). Reads elsewhere are EFAULT, as for an unmapped page; so are writes outside a
  // writable buffer. False when the table is full.
  bool expose(const void* start, size_t size, bool writable);

  // Which trace-server instance serves (every call names it; a restarted server answers
  // ESTALE and this program's handles are gone). 0 or -errno.
  int64_t connect();

  // bpf(command, attr, size): its value (a new handle, 0) or -errno.
  int64_t bpf(int command, void* attr, uint32_t size);
  // perf_event_open(attr, pid, cpu, group_fd, flags): a handle or -errno.
  int64_t perf_event_open(void* attr, int32_t pid, int32_t cpu, int32_t group_fd, uint64_t flags);
  // ioctl(handle, request, argument) on a perf event: 0 or -errno.
  int64_t perf_event_ioctl(int32_t handle, uint64_t request, uint64_t argument);
  // close(handle): 0 or -errno.
  int64_t close(int32_t handle);

  uint64_t instance() const { return instance_; }
  // Calls made to the trace server so far (each needMemory answer is one more).
  uint32_t calls() const { return calls_; }

 private:
  struct Region {
    uint64_t start;
    uint64_t size;
    bool writable;
  };
  // One try after another until the command runs; `attr` must be exposed (it is read through
  // the ranges too when the command wants more than the first min(size, 4096) bytes).
  int64_t call(sonde::proto::LinuxCall operation, int command, const void* attr, uint32_t size,
               uint64_t attr_address, const uint64_t* arguments, uint32_t argument_count);
  // How many bytes from `address` on are readable (inside one exposed buffer).
  uint64_t readable(uint64_t address, uint64_t length) const;
  bool writable(uint64_t address, uint64_t length) const;

  sonde::proto::TraceService::Client& client_;
  Region regions_[kMaxRegions] = {};
  uint32_t region_count_ = 0;
  uint64_t instance_ = 0;
  uint32_t calls_ = 0;
};

}  // namespace native_trace
