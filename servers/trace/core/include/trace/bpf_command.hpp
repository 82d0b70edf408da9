// SPDX-License-Identifier: MIT
// bpf_command: Linux's bpf(2) for one session, with Linux 6.1's attr rules, checks and errno.
#pragma once

#include <stdint.h>

#include "rt/result.hpp"
#include "trace/session.hpp"
#include "trace/user_memory.hpp"

namespace trace {

// Runs bpf(`command`, attr, size) for `session`. `attr` holds the first min(size, 4096) bytes
// the caller passed (an attr over a page is E2BIG before anything is read, as in Linux);
// pointer fields in it are addresses that `memory` reads and writes; output fields of the
// attr go back through memory.write_attr. The value is what bpf() returns: a new handle for
// the commands that make one (the POSIX server wraps it in an fd), else 0.
[[nodiscard]] rt::Result<int64_t> bpf_command(Session& session, int command, const uint8_t* attr,
                                              uint32_t size, UserMemory& memory);

// What /proc/PID/fdinfo/FD shows for a BPF object's fd `fd` after the common lines (pos,
// flags, mnt_id, ino), as Linux 6.1's show_fdinfo of its file: bpf_map_show_fdinfo,
// bpf_prog_show_fdinfo, bpf_link_show_fdinfo (with the raw tracepoint and tracing links' own
// lines) and bpf_btf_show_fdinfo. Writes at most `capacity` bytes at `address` and returns
// their count; a perf event fd has no lines of its own (0). EBADF for an fd that is not open.
[[nodiscard]] rt::Result<int64_t> object_fdinfo(Session& session, UserMemory& memory, int32_t fd,
                                                uint64_t address, uint64_t capacity);

}  // namespace trace
