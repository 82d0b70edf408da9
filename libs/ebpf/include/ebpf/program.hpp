// SPDX-License-Identifier: MIT
// Program: instructions ready to run, with the helper table, what the engines need, and the
// load-time rewriting that turns Linux's LD_IMM64 pseudo forms into what engines execute.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ebpf/isa.hpp"
#include "ebpf/runtime.hpp"
#include "rt/result.hpp"

namespace ebpf {

class Map;

// enum bpf_prog_type values Sonde supports (Linux uapi numbering).
enum class ProgramType : uint32_t {
  kUnspec = 0,
  kKprobe = 2,
  kTracepoint = 5,
  kPerfEvent = 7,
  kRawTracepoint = 17,
  // BPF_PROG_TYPE_TRACING: fentry, fexit and tp_btf programs, whose context is the traced
  // function's (or tracepoint's) u64 arguments typed by the kernel's BTF.
  kTracing = 26,
};

inline constexpr uint32_t kMaxHelperId = 256;

// A fentry or fexit program's context (kTracing on a function) is the arguments as u64s, with
// their count in the u64 before them (Linux's trampoline layout, which bpf_get_func_arg and its
// siblings read); this bit of that word says a fexit's return value follows the arguments.
inline constexpr uint64_t kTrampolineHasReturn = uint64_t{1} << 63;

// How an engine runs a program on `context` (r1). The interpreter's `run` is the default;
// a JIT sets its own entry here and keeps its code in `jit_image`.
using ProgramRunner = uint64_t (*)(const struct Program& program, void* context,
                                   Environment* environment);

// The map a helper call's map argument held, as the verifier found it on every path to the call
// (Linux's insn_aux_data map_ptr_state): engines specialise the call on it (the JIT inlines
// array lookups). One per instruction; only helper calls that take a map have one.
struct CallSiteMap {
  const Map* map = nullptr;  // nullptr: no map argument, or `varies`
  bool varies = false;       // different maps reached this call: keep the generic helper
};

// A loaded program. Instructions are the load-time rewritten form (prepare_for_execution):
// LD_IMM64 map references hold the Map* (or value address) in their two immediates and
// BPF_PSEUDO_FUNC references hold the absolute instruction index of the function, both as
// plain (src 0) LD_IMM64 instructions.
struct Program {
  const Insn* insns = nullptr;
  uint32_t insn_count = 0;
  ProgramType type = ProgramType::kUnspec;
  // Helpers by Linux helper id; nullptr entries are unknown helpers.
  const HelperFunction* helpers = nullptr;
  uint32_t helper_count = 0;

  // What the verifier proved (for engines that can use it, e.g. a JIT sizing its frame).
  bool verified = false;
  uint32_t max_stack_depth = 0;         // deepest combined stack of a call chain, bytes
  const uint8_t* insn_facts = nullptr;  // per-instruction InsnFact bits, or nullptr
  const CallSiteMap* call_maps =
      nullptr;  // per instruction (VerifierOptions::call_maps), or nullptr

  // The engine seam: nullptr means "interpret". A JIT stores its entry and image here.
  ProgramRunner runner = nullptr;
  const void* jit_image = nullptr;
  size_t jit_image_size = 0;
};

// The interpreter (interpreter.hpp); declared here so execute() needs no other header.
uint64_t run(const Program& program, void* context, Environment* environment);

// What the trace server calls for a probe hit: the program's engine, or the interpreter.
inline uint64_t execute(const Program& program, void* context, Environment* environment) {
  return program.runner != nullptr ? program.runner(program, context, environment)
                                   : run(program, context, environment);
}

// Load-time rewriting. Linux accepts map references in four LD_IMM64 forms; Sonde resolves
// them in two steps around verification:
//   1. resolve_fd_array (before verify): BPF_PSEUDO_MAP_IDX / MAP_IDX_VALUE name a slot of
//      the fd_array given with BPF_PROG_LOAD; they become MAP_FD / MAP_VALUE with that fd, the
//      forms the verifier resolves. Success, or EPROTO without an fd_array (as Linux), EFAULT for
//      a slot past its end (Linux's failed copy from the caller's array), EINVAL for a
//      truncated LD_IMM64.
//   2. prepare_for_execution (after verify): MAP_FD -> the Map*, MAP_VALUE -> the address
//      of the value byte (Map::direct_value), PSEUDO_FUNC -> the absolute instruction index
//      of the function (what ExecContext::invoke_callback takes), BTF_ID -> the address the
//      resolver gives for the kernel variable. Every rewritten instruction becomes a plain
//      LD_IMM64 (src 0). Success, or EBADF for an unknown fd, EINVAL for a value offset the map
//      cannot serve, a function index outside the program, a truncated LD_IMM64 or an
//      unknown pseudo source, ENOENT for a BTF id the resolver does not know.
struct LoadResolver {
  Map* (*map_by_fd)(void* state, int32_t fd) = nullptr;
  // BPF_PSEUDO_BTF_ID: the address of kernel variable `btf_id` (second slot's imm is the BTF
  // object fd, 0 for vmlinux), or 0 when unknown. Unset: every BTF_ID load is -ENOENT.
  uint64_t (*btf_variable)(void* state, int32_t btf_id, int32_t btf_fd) = nullptr;
  void* state = nullptr;
};

[[nodiscard]] rt::Result<void> resolve_fd_array(Insn* insns, uint32_t count,
                                                const int32_t* fd_array, uint32_t fd_array_count);
[[nodiscard]] rt::Result<void> prepare_for_execution(Insn* insns, uint32_t count,
                                                     const LoadResolver& resolver);

}  // namespace ebpf
