// SPDX-License-Identifier: MIT
// What the root task's files share: its CSpace and address-space layout, the boot information
// and the helpers that make, map and start things (main.cpp has them).
#pragma once

#include <stdint.h>

#include "sonde/abi/invocations.hpp"
#include "sonde/abi/ipc.hpp"
#include "sonde/abi/objects.hpp"
#include "sys/loader.hpp"

namespace root {

namespace abi = sonde::abi;

inline constexpr uint64_t kRoot = abi::kSlotRootCNode;
inline constexpr uint64_t kVSpace = abi::kSlotRootVSpace;
inline constexpr uint64_t kLoaderWindow = 0x3ff00000;  // one page the loader fills through
inline constexpr uint64_t kFillWindow = 0x3fe00000;    // start info page while it is written
inline constexpr uint64_t kNativeFaultBadge = 0x9a7e;  // fault messages of the native program

extern const abi::BootInfo* boot;
extern uint64_t next_slot;  // the root CNode's first free slot
extern uint64_t untyped;    // the untyped cap objects are made from
extern uint64_t supervisor_endpoint;
// The trace service endpoint, once the trace server's lasting resources are made.
bool trace_ready();
uint64_t trace_service();

const abi::ModuleDescription* find_module(const char* name);
// Stops at the first failed step and says which.
bool check(abi::Error e, const char* what);
abi::Error make(abi::ObjectType type, uint64_t size_bits, uint64_t& slot);
abi::Error map_frame(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights);
// Maps a copy of `frame` (made in a root slot) into `vspace`: a frame cap maps once.
bool map_copy(uint64_t frame, uint64_t vspace, uint64_t address, uint64_t rights, const char* what);
// Starts a server's thread at its entry: rdi = its start info, fs_base = its IPC buffer.
abi::Error run_server(uint64_t tcb, const sys::LoadedProgram& program);

// native_program.cpp: the `native` boot module, a Sonde program that is a client of the trace
// server (docs/NATIVE.md). Its memory is set aside before the POSIX server takes the rest.
void prepare_native_program();
bool start_native_program();

}  // namespace root
