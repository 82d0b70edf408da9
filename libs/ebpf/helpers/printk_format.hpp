// The formatter behind bpf_trace_printk and bpf_trace_vprintk, with Linux's restrictions.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ebpf/environment.hpp"

namespace ebpf {

// Formats `format` (which must be NUL-terminated within `format_size` bytes) with up to
// `arg_count` u64 arguments into `out`. Conversions: %d %i %u %x %X %c %s %p %% with l/ll
// modifiers, flags and widths; %s reads the string through `env` (kernel memory, at most
// 63 bytes, "(fault)" if unreadable). Returns the length written, or -EINVAL for a format
// Linux refuses (unknown conversion, too few arguments, unterminated, too long).
// `needed`, if given, receives the length of the whole message before truncation.
long format_bpf_message(Environment& env, char* out, size_t out_size, const char* format,
                        uint32_t format_size, const uint64_t* args, uint32_t arg_count,
                        size_t* needed = nullptr);

}  // namespace ebpf
