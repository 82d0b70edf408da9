// Program: instructions ready to run, with the helper table and what the engines need.
#pragma once

#include <stdint.h>

#include "ebpf/isa.hpp"
#include "ebpf/runtime.hpp"

namespace ebpf {

// enum bpf_prog_type values Sonde supports (Linux uapi numbering).
enum class ProgramType : uint32_t {
  kUnspec = 0,
  kKprobe = 2,
  kTracepoint = 5,
  kPerfEvent = 7,
  kRawTracepoint = 17,
};

inline constexpr uint32_t kMaxHelperId = 256;

// A loaded program. Instructions are the load-time rewritten form: LD_IMM64 map references
// hold the Map* (or value address) in their two immediates, BPF_PSEUDO_FUNC immediates hold
// the absolute instruction index of the function.
struct Program {
  const Insn* insns = nullptr;
  uint32_t insn_count = 0;
  ProgramType type = ProgramType::kUnspec;
  // Helpers by Linux helper id; nullptr entries are unknown helpers.
  const HelperFunction* helpers = nullptr;
  uint32_t helper_count = 0;
  // Seam for the JIT: when set, engines may run this instead of interpreting.
  uint64_t (*compiled)(void* context, const Program* program) = nullptr;
};

}  // namespace ebpf
