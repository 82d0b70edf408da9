// SPDX-License-Identifier: MIT
// Starting a native ELF program in a new address space, from user mode (the root task loads
// boot modules this way): frames and page tables come from an untyped cap the caller holds.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sonde/abi/errors.hpp"

namespace sys {

struct LoaderResources {
  uint64_t untyped;        // objects are retyped from here
  uint64_t root;           // the caller's root CNode (depth-64 cptrs, slot n = cptr n)
  uint64_t* next_slot;     // free slots from here on (advanced as they are used)
  uint64_t own_vspace;     // the caller's VSpace, where pages are filled
  uint64_t window;         // a free, page-aligned address there whose page table exists
  uint64_t stack_top = 0;  // where the stack ends (page-aligned); 0: below 0x7fffffff0000
  // A page of the program (page-aligned; 0: none) whose Frame cap LoadedProgram::kept_frame
  // names: the caller may share it (the POSIX server's kprobe slot page with the trace server).
  uint64_t keep_page = 0;
};

struct LoadedProgram {
  uint64_t vspace = 0;  // cap to the program's new VSpace
  uint64_t entry = 0;
  uint64_t stack_top = 0;   // rsp for the first instruction (16-byte aligned minus 8)
  uint64_t kept_frame = 0;  // the Frame cap mapped at resources.keep_page (0: none there)
};

// Validates `image` as an x86-64 executable, makes a VSpace with its segments (file bytes
// copied, the rest zero; text read-only and executable, data no-execute) and `stack_pages`
// writable pages of stack below 0x7fffffff0000 (or resources.stack_top). Returns the first error of
// any step.
sonde::abi::Error load_program(const uint8_t* image, size_t size, uint64_t stack_pages,
                               const LoaderResources& resources, LoadedProgram& program);

}  // namespace sys
