// SPDX-License-Identifier: MIT
// perf_copy_attr: a caller's struct perf_event_attr bytes checked with Linux 6.1's rules.
#pragma once

#include <stdint.h>

#include "rt/result.hpp"
#include "trace/perf_event_uapi.hpp"

namespace trace {

// The attr as Linux's perf_copy_attr leaves it, or its errno. `bytes` are the `length` bytes
// that could be read at the caller's attr address (fewer than the attr's `size` means the rest
// faulted: EFAULT, after the zero-tail check as copy_struct_from_user orders them). A size of 0
// means PERF_ATTR_SIZE_VER0; a size below VER0 or above a page, or a nonzero byte past the
// 6.1 struct, is E2BIG, and then the caller must write kPerfAttrSize back into the attr's
// `size` field (perf_event_open does). Then the reserved fields, sample_type, read_format,
// branch_sample_type, the sampled registers and user stack, the weight formats and the
// inherit_thread / remove_on_exec / sigtrap combinations: EINVAL. sample_max_stack 0 becomes
// the sysctl's 127. Privilege checks are perf_event_open's.
[[nodiscard]] rt::Result<PerfEventAttr> parse_perf_event_attr(const uint8_t* bytes,
                                                              uint32_t length);

inline constexpr uint16_t kPerfEventMaxStack = 127;  // sysctl_perf_event_max_stack

}  // namespace trace
