// SPDX-License-Identifier: MIT
// The POSIX server's side of the trace service: bpf() forwarded as Linux's bytes.
#pragma once

#include <stdint.h>

#include "rt/allocator.hpp"
#include "rt/result.hpp"
#include "trace.capnp.hpp"

namespace posix::trace_client {

// The calling process's memory, as the POSIX server reaches it.
class CallerMemory {
 public:
  // Copies up to `length` bytes from `address`, stopping at the first unreadable byte; the
  // count copied.
  virtual uint64_t read_prefix(uint64_t address, uint8_t* out, uint64_t length) = 0;
  // Copies `length` bytes to `address`; false if any of it is not writable.
  virtual bool write(uint64_t address, const uint8_t* bytes, uint64_t length) = 0;

 protected:
  ~CallerMemory() = default;
};

struct CallerInfo {
  int32_t pid;
  int32_t tgid;
  uint32_t uid;
  uint32_t gid;
  const char* comm;
  bool cap_bpf;  // CAP_BPF or CAP_SYS_ADMIN (root)
  bool cap_perfmon;
};

// Fills `table` for the caller (called again when the instance changes).
class DescriptorSource {
 public:
  virtual uint32_t fill(int32_t* table, uint32_t capacity, uint64_t instance) = 0;

 protected:
  ~DescriptorSource() = default;
};

// The most the POSIX server stages from the caller for one call (the request buffer is
// 2 MiB; the rest is framing).
inline constexpr uint64_t kMaxStagedBytes = (2u << 20) - (64u << 10);
inline constexpr uint32_t kMaxTries = 64;
inline constexpr uint32_t kMaxDescriptors = 1024;

// The trace-server instance the POSIX server's handles belong to: learnt from the server,
// bumped when a call finds another instance answering (then every older handle is stale).
uint64_t current_instance();

// bpf(command, attr, size) for the caller: bpf()'s value (a handle for commands that make
// one, 0) or -errno. Linux's size rules come first (E2BIG above a page, EFAULT for an
// unreadable attr); the trace server does the rest.
// A handle of a dead instance names nothing: the fd behaves as closed in bpf() (EBADF).
// `new_handle` says whether the value is a handle the call made (to wrap in an fd).
int64_t forward_bpf(sonde::proto::TraceService::Client& client, int command, uint64_t attr_address,
                    uint32_t size, const CallerInfo& caller, DescriptorSource& descriptors,
                    CallerMemory& memory, rt::Allocator& scratch, bool& new_handle);

// perf_event_open(attr, pid, cpu, group_fd, flags): a new handle or -errno.
int64_t forward_perf_event_open(sonde::proto::TraceService::Client& client, uint64_t attr,
                                int32_t pid, int32_t cpu, int32_t group_fd, uint64_t flags,
                                const CallerInfo& caller, DescriptorSource& descriptors,
                                CallerMemory& memory, rt::Allocator& scratch, bool& new_handle);
// ioctl(fd, request, argument) (`ioctl`) or read(fd, buffer, count) of a perf event fd.
int64_t forward_perf_event_call(sonde::proto::TraceService::Client& client, bool ioctl, int32_t fd,
                                uint64_t first, uint64_t second, const CallerInfo& caller,
                                DescriptorSource& descriptors, CallerMemory& memory,
                                rt::Allocator& scratch);
// The fdinfo lines of the BPF object behind `fd` (Linux's show_fdinfo of its file): written at
// `address` (at most `capacity` bytes), their length or -errno. Reading fdinfo asks no
// capability, as on Linux.
int64_t forward_object_fdinfo(sonde::proto::TraceService::Client& client, int32_t fd,
                              uint64_t address, uint64_t capacity, const CallerInfo& caller,
                              DescriptorSource& descriptors, CallerMemory& memory,
                              rt::Allocator& scratch);

// mmap of the object behind `handle`: its pages copied as Frame caps into the exchange CNode
// from slot 0 on. `result` 0 or -errno; `mapping` the handle that keeps them (close at munmap).
struct MmapGrant {
  int64_t result = 0;
  uint32_t mapping = 0;
  uint32_t pages = 0;
};
MmapGrant mmap_grant(sonde::proto::TraceService::Client& client, uint32_t handle, uint64_t instance,
                     uint64_t offset, uint64_t length, bool writable, bool shared);
// Drops a handle of `instance` (the last close of its fd); nothing to do for a dead instance.
rt::Result<void> close_handle(sonde::proto::TraceService::Client& client, uint32_t handle,
                              uint64_t instance);

}  // namespace posix::trace_client
