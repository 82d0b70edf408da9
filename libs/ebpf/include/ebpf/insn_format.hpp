// SPDX-License-Identifier: MIT
// Freestanding instruction formatting in bpftool's xlated style (used by verifier logs and
// by the host disassembler).
#pragma once

#include <stddef.h>

#include "ebpf/isa.hpp"

namespace ebpf {

// Writes one instruction (`next` is the second slot of an LD_IMM64) into `buffer`, always
// NUL-terminated; returns the length it needed.
size_t format_insn(char* buffer, size_t size, const Insn& insn, const Insn* next);

// Linux's name of helper `id` ("bpf_map_lookup_elem"), or nullptr for ids Linux 6.1 lacks.
const char* helper_name(int32_t id);

}  // namespace ebpf
