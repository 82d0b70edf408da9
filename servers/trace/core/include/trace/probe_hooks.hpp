// SPDX-License-Identifier: MIT
// ProbeHooks: what the trace core asks the server about probes; ProbeHit: what it reports back.
#pragma once

#include <stdint.h>

#include "rt/result.hpp"

namespace trace {

enum class ProbeKind : uint8_t {
  kKprobe = 0,         // a kprobe PMU event: function entry (or return) in the POSIX server
  kUprobe = 1,         // a uprobe PMU event: a file offset in a user program
  kTracepoint = 2,     // PERF_TYPE_TRACEPOINT: a tracefs event by id
  kRawTracepoint = 3,  // BPF_RAW_TRACEPOINT_OPEN: a tracepoint by name, raw u64 arguments
  // A fentry or fexit program (BPF_PROG_TYPE_TRACING) on a POSIX-server function by name: the
  // function's arguments as u64s (fexit: then its return value), with their count before them.
  kTracing = 4,
};

// One probe to arm. Strings are NUL-terminated and live only for the call.
struct ProbeSpec {
  ProbeKind kind = ProbeKind::kKprobe;
  bool is_return = false;        // kretprobe, uretprobe
  const char* symbol = nullptr;  // kprobe by symbol (+ offset); nullptr: by address
  uint64_t address = 0;          // kprobe by address
  uint64_t offset = 0;           // kprobe: from the symbol; uprobe: in the file
  const char* path = nullptr;    // uprobe: the file
  uint64_t ref_ctr_offset = 0;   // uprobe: the semaphore's file offset (config >> 32), or 0
  uint64_t tracepoint_id = 0;    // tracepoint
  const char* name = nullptr;    // raw tracepoint
  int32_t pid = -1;              // the task a perf event follows; -1 any (uprobes: arm there only)
  // A kprobe_multi link's function (Linux attaches those with fprobe, through ftrace: they are
  // not kprobes, so /sys/kernel/debug/kprobes/list does not show them).
  bool multi = false;
  // kTracing: the function's arguments (at most kMaxTracingRegisterArgs; fexit: is_return).
  uint32_t arguments = 0;
};

// Arguments a fentry or fexit program may have: those x86-64 passes in registers (Linux 6.1's
// trampoline refuses more with ENOTSUPP).
inline constexpr uint32_t kMaxTracingRegisterArgs = 6;

// The server's side. `arm` registers a probe under the core's number and starts reporting its
// hits (ProbeTable::report_hit) until `disarm`: Linux registers kprobes, uprobes and
// tracepoints at perf_event_open and raw tracepoints at BPF_RAW_TRACEPOINT_OPEN, and their
// programs run from the attach on, whether or not the perf event is enabled. arm's errors are
// what the program sees: ENOENT for a symbol that does not exist, EINVAL for an address that
// cannot be probed or a path that is no regular file, ENOENT for a missing file, EILSEQ for an
// offset inside an instruction.
class ProbeHooks {
 public:
  // PERF_TYPE_TRACEPOINT's config: the record size of the tracefs event with this id (the
  // bound of what its programs may read), or EINVAL when no event has the id.
  virtual rt::Result<uint32_t> tracepoint_record_size(uint64_t id) = 0;
  // The name of the tracefs event with this id ("sys_enter_openat"), or nullptr when there is
  // none; valid while the event exists (BPF_TASK_FD_QUERY reports it).
  virtual const char* tracepoint_name(uint64_t id) = 0;
  // bpf_get_raw_tracepoint: the number of u64 arguments of raw tracepoint `name`, or ENOENT.
  virtual rt::Result<uint32_t> raw_tracepoint_arguments(const char* name) = 0;
  // perf_event_open's pid > 0: whether the task exists (else ESRCH).
  virtual bool task_exists(int32_t pid) = 0;
  virtual rt::Result<void> arm(uint32_t probe, const ProbeSpec& spec) = 0;
  virtual void disarm(uint32_t probe) = 0;
  // Within a sample of a microkernel probe: the Linux task it stands for (a timer tick's
  // interrupted task), whom bpf_get_current_pid_tgid and _comm then answer for, as Linux's
  // `current` in a perf_event program.
  virtual void sample_task(int32_t tid, int32_t tgid, const char (&comm)[16]) {
    (void)tid;
    (void)tgid;
    (void)comm;
  }

 protected:
  ~ProbeHooks() = default;
};

// A hit the server reports. `context` is what the programs get as r1: the x86-64 struct pt_regs
// (168 bytes) for kprobes and uprobes, the record laid out by the event's `format` for
// tracepoints, the u64 arguments for raw tracepoints and for fentry/fexit (with their count in
// the u64 before `context`, as Linux's trampoline keeps it for bpf_get_func_arg_cnt). `pid` is
// the thread that hit it.
struct ProbeHit {
  void* context = nullptr;
  uint32_t size = 0;
  uint32_t cpu = 0;
  int32_t pid = 0;
  // A kprobe's: the probed function's address (bpf_get_func_ip), on entry and on return.
  uint64_t function_ip = 0;
};

inline constexpr uint32_t kPtRegsSize = 168;  // sizeof(struct pt_regs) on x86-64

}  // namespace trace
