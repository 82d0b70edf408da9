// SPDX-License-Identifier: MIT
// Intel-syntax listings of JIT output (host only, built with Zydis): for docs, tools and tests.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

#include "ebpf/jit.hpp"

namespace ebpf {

// The x86 instructions compiled for BPF instructions [first, last) of `code`, one Intel-syntax
// line each ("mov eax, dword ptr [rdx]"); `last` past the program stops at its end. An LD_IMM64's
// second slot has no code of its own.
std::vector<std::string> jit_instructions(const JitProgram& code, uint32_t first, uint32_t last);

// The whole image: the retpoline, the trampoline and stubs, then each BPF instruction's code under
// its index, each line "  offset  instruction".
std::string jit_listing(const JitProgram& code);

}  // namespace ebpf
