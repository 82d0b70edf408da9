// SPDX-License-Identifier: MIT
// Interpreter: runs a program with threaded (computed-goto) dispatch.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ebpf/program.hpp"
#include "ebpf/runtime.hpp"

namespace ebpf {

class Map;

// Outcome of a run. Verified programs only ever end in kOk (or kTailCallLimit is silent,
// as in Linux: the failing tail call just falls through); the other results come from
// checked runs of unverified programs.
enum class RunStatus : uint8_t {
  kOk,
  kInvalidInstruction,  // opcode or field the engine does not implement
  kOutOfBounds,         // checked mode: memory access outside every allowed region
  kCallDepthExceeded,   // more than kMaxCallDepth nested bpf-to-bpf calls
  kUnknownHelper,       // helper id with no entry in the table
  kBudgetExhausted,     // checked mode: instruction budget used up (a loop?)
  kJumpOutOfRange,      // checked mode: jump or fall-through leaves the program
  kAborted,             // a helper asked to stop the program (ExecContext::abort)
};

const char* run_status_message(RunStatus status);

// A memory range a checked run may touch, besides its stack.
struct MemoryRegion {
  uint64_t start;
  uint64_t size;
  bool writable;
};

struct CheckedRunOptions {
  const MemoryRegion* regions = nullptr;
  size_t region_count = 0;
  // Maps a tail call may name in r2 (prog_arrays); any other value is kOutOfBounds.
  Map* const* tail_call_maps = nullptr;
  size_t tail_call_map_count = 0;
  uint64_t instruction_budget = 1u << 24;
};

struct RunResult {
  RunStatus status;
  uint64_t value;  // r0 at exit
  uint32_t pc;     // instruction index where a failure happened
};

// Runs a verified program on `context` (r1). No bounds checks: the verifier proved them.
uint64_t run(const Program& program, void* context, Environment* environment);

// Another engine's tail call into a program it has no code for (the JIT's fallback): runs
// `program` with r1 on a fresh interpreter stack, carrying the run's tail-call count both
// ways; a failure or abort sets parent.abort_requested (the run's value is then 0).
uint64_t run_tail_call_target(const Program& program, uint64_t r1, ExecContext& parent);

// Runs an unverified program with every memory access, jump and call checked; for the
// conformance suite and tools, never for probes.
RunResult run_checked(const Program& program, uint64_t r1, uint64_t r2, Environment* environment,
                      const CheckedRunOptions& options);

// Helpers that need to end the program (the conformance "unwind" helper) set this.
void request_abort(ExecContext& context);

}  // namespace ebpf
