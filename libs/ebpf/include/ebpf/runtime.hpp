// SPDX-License-Identifier: MIT
// The contract between an execution engine (interpreter or JIT) and helper functions.
#pragma once

#include <stdint.h>

namespace ebpf {

class Environment;  // services of the host: current task, traced memory, time, output
                    // (environment.hpp)
struct Program;     // a loaded, verified program (program.hpp)

// Per-run state, created by the engine for one program invocation and passed to helpers.
struct ExecContext {
  Environment* env = nullptr;
  const Program* program = nullptr;
  void* program_context = nullptr;  // r1 at entry (pt_regs, tracepoint record, ...)
  uint32_t tail_call_count = 0;     // tail calls taken so far in this run (limit kMaxTailCalls)

  // Calls a function of the running program, for helpers that take a callback (bpf_loop,
  // bpf_for_each_map_elem). `function` is the value a LD_IMM64 BPF_PSEUDO_FUNC put in a
  // register; its encoding belongs to the engine. Set by the engine.
  uint64_t (*invoke_callback)(ExecContext& context, uint64_t function, uint64_t a1, uint64_t a2,
                              uint64_t a3, uint64_t a4, uint64_t a5) = nullptr;
  void* engine_state = nullptr;  // private to the engine that set invoke_callback

  // Set by a helper to end the program at once (only test helpers do this today).
  bool abort_requested = false;
};

// A helper as engines call it: r1..r5 in, r0 out.
using HelperFunction = uint64_t (*)(ExecContext& context, uint64_t r1, uint64_t r2, uint64_t r3,
                                    uint64_t r4, uint64_t r5);

}  // namespace ebpf
