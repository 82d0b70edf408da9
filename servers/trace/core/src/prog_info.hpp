// SPDX-License-Identifier: MIT
// The program tag: SHA-1 of the instructions with map references blanked, as Linux computes it.
#pragma once

#include <stdint.h>

#include "ebpf/isa.hpp"
#include "trace/bpf_uapi.hpp"

namespace trace {

// bpf_prog_calc_tag over the instructions as loaded (before fd_array resolution): the
// immediates of BPF_PSEUDO_MAP_FD / MAP_VALUE loads are zeroed, then the first 8 bytes of the
// SHA-1 of the bytes are the tag.
void compute_tag(const ebpf::Insn* insns, uint32_t count, uint8_t tag[kTagSize]);

}  // namespace trace
