// SPDX-License-Identifier: MIT
// The kernel's BTF as BTF-typed programs see it: struct fields for the verifier's loads through
// kernel pointers, and the targets fentry, fexit and tp_btf programs attach to.
#pragma once

#include <stdint.h>

#include "ebpf/verifier.hpp"
#include "rt/result.hpp"
#include "trace/btf.hpp"

namespace trace {

class VerifierLog;

// enum bpf_attach_type values of BPF_PROG_TYPE_TRACING programs.
inline constexpr uint32_t kAttachTraceRawTp = 23;   // BPF_TRACE_RAW_TP (tp_btf)
inline constexpr uint32_t kAttachTraceFentry = 24;  // BPF_TRACE_FENTRY
inline constexpr uint32_t kAttachTraceFexit = 25;   // BPF_TRACE_FEXIT

// What a tracing program attaches to (Linux's bpf_check_attach_target): the function (fentry,
// fexit) or raw tracepoint (tp_btf) and the u64 arguments its context holds.
struct TracingTarget {
  const char* name = "";       // the function or tracepoint (the BTF's string: lives with it)
  uint32_t function_args = 0;  // the function's (tracepoint's) own arguments
  // u64s in the context: the arguments, and a fexit program's return value after them.
  uint32_t context_args = 0;
  // Per context u64: the BTF id of the struct it points to, or 0 for a number.
  uint32_t arg_types[ebpf::kMaxTracingArgs + 1] = {};
};

class BtfKernelTypes final : public ebpf::KernelTypes {
 public:
  explicit BtfKernelTypes(const Btf& btf);

  int read_field(uint32_t type, int32_t offset, int size, uint32_t* pointee, char* message,
                 size_t message_size) const override;
  const char* type_name(uint32_t type) const override;
  uint32_t task_struct() const override { return task_struct_; }

  // bpf_check_attach_target for BPF_PROG_TYPE_TRACING on the kernel's BTF: EINVAL with Linux's
  // message in `log` for a missing, unnamed or wrong-kind type, E2BIG for too many arguments.
  [[nodiscard]] rt::Result<TracingTarget> resolve_target(uint32_t btf_id, uint32_t attach_type,
                                                         VerifierLog& log) const;
  // The struct or union a pointer type points to (modifiers and typedefs followed), or 0.
  uint32_t pointee_struct(uint32_t pointer_type) const;

 private:
  // Follows modifiers and typedefs: the id of the type that says what `id` is.
  uint32_t resolve(uint32_t id) const;

  const Btf& btf_;
  uint32_t task_struct_ = 0;
};

}  // namespace trace
