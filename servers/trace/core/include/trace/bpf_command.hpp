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

}  // namespace trace
