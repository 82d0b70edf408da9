// SPDX-License-Identifier: MIT
// mmap() and poll() of a trace-server object by a Linux process (Linux's bpf_map_mmap and
// perf_mmap, bpf_map_poll and perf_poll): which of the object's pages, with which rights. The pages
// live in the trace server; the server binary shares their frames and the POSIX server maps them
// into the process.
#pragma once

#include <stdint.h>

#include "rt/result.hpp"
#include "trace/session.hpp"

namespace trace {

// The handle mode of a mapping: the handle keeps the object (and a perf event's ring) alive
// for as long as the process maps it; closing it is munmap.
inline constexpr uint32_t kMapping = 4;

struct ObjectMapping {
  const uint8_t* first_page = nullptr;  // the object's page at the mapping's offset
  uint64_t pages = 0;
  bool writable = false;
  int32_t handle = 0;  // the mapping's handle
};

// mmap(length, prot, shared ? MAP_SHARED : MAP_PRIVATE, fd, offset) with PROT_WRITE as
// `writable`, checked as Linux: a map that cannot be mapped ENOTSUPP (524); a program, link or
// BTF ENODEV; a private mapping, an offset or length past the object, an array without
// BPF_F_MMAPABLE EINVAL; writing a frozen map EPERM, a BPF_F_RDONLY_PROG one EACCES, a ring
// buffer's pages other than the consumer page alone EPERM; perf events as perf_mmap.
[[nodiscard]] rt::Result<ObjectMapping> mmap_object(Session& session, int32_t fd, uint64_t offset,
                                                    uint64_t length, bool writable, bool shared);

// poll() of an object's fd: a ring buffer EPOLLIN|EPOLLRDNORM while it holds data (0 else),
// another map EPOLLERR (bpf_map_poll without map_poll), a perf event as perf_poll, programs,
// links and BTF DEFAULT_POLLMASK.
[[nodiscard]] rt::Result<uint32_t> poll_object(Session& session, int32_t fd);

// Closing a kMapping handle of a perf event: its ring goes with the last mapping.
void perf_event_unmapped(ObjectTable& objects, Object* event);

}  // namespace trace
