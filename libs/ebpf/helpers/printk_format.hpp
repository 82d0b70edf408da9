// SPDX-License-Identifier: MIT
// The formatter behind bpf_trace_printk, bpf_trace_vprintk and bpf_snprintf, with Linux's rules.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ebpf/environment.hpp"

namespace ebpf {

// Formats `format` (NUL-terminated within `format_size` bytes) with up to `arg_count` u64
// arguments into `out`, as Linux's bpf_bprintf_prepare + bstr_printf do (Linux 6.1):
// printable characters only; conversions %d %i %u %x %X (with l / ll), %c, %s, %p, %pK,
// %px, %ps, %pS, %pB, %pks, %pus, %pi4 %pI4 %pi6 %pI6, and %%; flags '0' '+' '-' ' ' and a
// width; no precision. Strings (%s kernel, %pus user) are read through `env` into one
// 512-byte area shared by every string, char and address argument; an unreadable string
// prints as empty. Returns the length written (without the NUL), or -EINVAL for a format
// Linux refuses (also more conversions than arguments), -ENOSPC when the area is full.
// `needed`, if given, receives the length of the whole message before truncation.
long format_bpf_message(Environment& env, char* out, size_t out_size, const char* format,
                        uint32_t format_size, const uint64_t* args, uint32_t arg_count,
                        size_t* needed = nullptr);

}  // namespace ebpf
