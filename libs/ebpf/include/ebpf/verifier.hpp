// SPDX-License-Identifier: MIT
// Verifier: proves a program safe before it may run, with Linux's rules and Linux-style logs.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ebpf/isa.hpp"
#include "ebpf/map.hpp"
#include "ebpf/program.hpp"
#include "ebpf/verifier_assumptions.hpp"
#include "rt/allocator.hpp"

namespace ebpf {

// Log levels (Linux's BPF_LOG_LEVEL1, BPF_LOG_LEVEL2, BPF_LOG_STATS).
inline constexpr uint32_t kLogLevel1 = 1;
inline constexpr uint32_t kLogLevel2 = 2;
inline constexpr uint32_t kLogStats = 4;
inline constexpr uint32_t kMinLogSize = 128;  // smaller log buffers are EINVAL, as in Linux

inline constexpr size_t kPtRegsSize = 168;        // x86-64 struct pt_regs
inline constexpr size_t kRawTracepointArgs = 12;  // MAX_BPF_FUNC_ARGS u64 arguments

// Linux's complexity limits (kernel/bpf/verifier.c): pending branches of one path
// (BPF_COMPLEXITY_LIMIT_JMP_SEQ, "The sequence of N jumps is too complex.", E2BIG) and stored
// states per instruction for a loader without CAP_BPF (BPF_COMPLEXITY_LIMIT_STATES: past it
// no new state is stored, the load goes on). The instruction budget is kMaxInsns (isa.hpp).
inline constexpr uint32_t kComplexityLimitJmpSeq = 8192;
inline constexpr uint32_t kComplexityLimitStates = 64;
// Program length for a loader without CAP_BPF (BPF_MAXINSNS; E2BIG past it).
inline constexpr uint32_t kMaxUnprivilegedInsns = 4096;

// What the loader may do, as Linux derives it from the loader's capabilities in bpf_check()
// (from_capabilities below). The default is what Sonde accepted before these switches
// existed: a loader with CAP_BPF and CAP_PERFMON (what tracing programs need in Linux),
// except that reads of uninitialised stack stay refused unless the loader asks for them.
struct VerifierPrivileges {
  bool bpf_capable = true;          // CAP_BPF: no cap on stored states per instruction
  bool allow_ptr_leaks = true;      // CAP_PERFMON: pointers may reach maps, r0, comparisons
  bool bypass_spec_v1 = true;       // CAP_PERFMON: no Spectre v1 limits on pointer arithmetic
  bool bypass_spec_v4 = true;       // CAP_PERFMON: no Spectre v4 fence after stack spills
  bool allow_uninit_stack = false;  // CAP_PERFMON in Linux: never-written stack reads as data

  // Linux: bpf_capable is CAP_BPF or CAP_SYS_ADMIN; the four others follow perfmon_capable
  // (CAP_PERFMON or CAP_SYS_ADMIN); both bypass_spec switches are also on when the CPU
  // mitigations are off (cpu_mitigations_off()).
  static constexpr VerifierPrivileges from_capabilities(bool cap_bpf, bool cap_perfmon,
                                                        bool cap_sys_admin = false,
                                                        bool mitigations_off = false) {
    bool perfmon = cap_perfmon || cap_sys_admin;
    VerifierPrivileges p;
    p.bpf_capable = cap_bpf || cap_sys_admin;
    p.allow_ptr_leaks = perfmon;
    p.bypass_spec_v1 = perfmon || mitigations_off;
    p.bypass_spec_v4 = perfmon || mitigations_off;
    p.allow_uninit_stack = perfmon;
    return p;
  }
};

// The kernel's types as BTF-typed programs see them (Linux's PTR_TO_BTF_ID): tracing programs
// get pointers to kernel structs in their arguments and from bpf_get_current_task_btf, and read
// their fields directly. The trace server answers from the kernel's BTF.
class KernelTypes {
 public:
  // A read of `size` bytes at `offset` in the struct or union with BTF id `type`: 0, with
  // `*pointee` the struct a pointer field read whole there points to (0 for a number), or a
  // negative errno with Linux's message in `message` (btf_struct_access: "access beyond
  // struct %s at off %u size %u").
  virtual int read_field(uint32_t type, int32_t offset, int size, uint32_t* pointee, char* message,
                         size_t message_size) const = 0;
  // The struct's name, as the log prints a pointer to it (ptr_<name>).
  virtual const char* type_name(uint32_t type) const = 0;
  // The BTF id of struct task_struct (bpf_get_current_task_btf), 0 when the BTF has none.
  virtual uint32_t task_struct() const = 0;

 protected:
  ~KernelTypes() = default;
};

inline constexpr uint32_t kMaxTracingArgs = 12;  // MAX_BPF_FUNC_ARGS

struct VerifierOptions {
  ProgramType type = ProgramType::kKprobe;
  // Tracepoint programs: bytes of the event record (from the event's format file).
  uint32_t tracepoint_record_size = 0;
  // Tracing programs (kTracing): the kernel's types, the traced function's name (for the log)
  // and the u64 arguments the context holds (a fexit program's last one is the return value),
  // each the BTF id of the struct it points to, or 0 for a number. A load through a
  // BTF-typed pointer needs `insn_facts` (kFactProbeLoad tells the engine which ones).
  const KernelTypes* kernel_types = nullptr;
  const char* attach_name = "";
  uint32_t context_args = 0;
  uint32_t context_arg_types[kMaxTracingArgs + 1] = {};
  // fentry and fexit programs (the context has the trampoline's layout, kTrampolineHasReturn):
  // bpf_get_func_arg, bpf_get_func_ret and bpf_get_func_arg_cnt may be called.
  bool trampoline = false;
  // Map references. With `resolve_map` set, LD_IMM64 instructions are in Linux's form:
  // BPF_PSEUDO_MAP_FD holds a map fd, BPF_PSEUDO_MAP_VALUE a map fd and an offset into the
  // value of a single-element array (global variables, .rodata). Without it,
  // BPF_PSEUDO_MAP_FD must already hold the Map* in its immediates.
  const Map* (*resolve_map)(void* state, int32_t fd) = nullptr;
  void* resolve_state = nullptr;
  char* log = nullptr;
  uint32_t log_size = 0;
  uint32_t log_level = 0;
  rt::Allocator* allocator = nullptr;  // for explored states; required
  uint32_t instruction_limit = kMaxInsns;
  // Bytes the verifier may hold at once for this load (states, pending branches, tables);
  // past it the load fails with ENOMEM and a log line. 0: no cap beyond the allocator's.
  size_t memory_budget = 0;
  VerifierPrivileges privileges;
  // Optional (verifier_assumptions.hpp): an entry state replacing Linux's (tests, oracles),
  // and `count` bytes that receive InsnFact bits for the engines and tools.
  const EntryAssumptions* assumptions = nullptr;
  uint8_t* insn_facts = nullptr;
  // Optional: `count` entries that receive, for each helper call taking a map, the map its
  // argument held on every path (program.hpp), for Program::call_maps.
  CallSiteMap* call_maps = nullptr;
};

struct VerifierResult {
  int error = 0;  // 0 or a negative Linux errno (EINVAL, EACCES, E2BIG, ENOSPC, ENOMEM)
  uint32_t instructions_processed = 0;
  uint32_t states_stored = 0;        // Linux's total_states
  uint32_t peak_states = 0;          // most stored states held at once
  uint32_t max_states_per_insn = 0;  // longest list of stored states met at one instruction
  uint32_t max_stack_depth = 0;      // deepest combined stack of a call chain, bytes
  uint32_t log_true_size = 0;        // bytes the whole log needed, including the NUL
  size_t peak_memory = 0;            // most bytes the verifier held at once
};

VerifierResult verify(const Insn* insns, uint32_t count, const VerifierOptions& options);

// After verification, for callers that only have maps to resolve: prepare_for_execution
// (program.hpp, the load path) with `resolve_map` as its map resolver. Map references become
// plain LD_IMM64s of the Map* or of the value's address; EBADF for an unknown fd and EINVAL for
// a value reference the map cannot serve.
[[nodiscard]] rt::Result<void> relocate_maps(Insn* insns, uint32_t count,
                                             Map* (*resolve_map)(void* state, int32_t fd),
                                             void* resolve_state);

}  // namespace ebpf
