// SPDX-License-Identifier: MIT
// The trace server's ProbeHooks: perf-event probes (kprobe PMU, tracepoints) armed through the
// Kprobes of the POSIX server, their hits reported to the core's ProbeTable.
#pragma once

#include <stdint.h>

#include "kprobe_events.hpp"
#include "kprobes.hpp"
#include "posix_symbols.hpp"
#include "sched_tracepoints.hpp"
#include "syscall_tracepoints.hpp"
#include "trace/perf_events.hpp"
#include "trace/probe_hooks.hpp"
#include "trace/tracefs.hpp"
#include "uprobes.hpp"

namespace trace {

class ServerProbeHooks final : public ProbeHooks {
 public:
  ServerProbeHooks(Tracefs& tracefs, PosixSymbols& symbols, Kprobes& kprobes,
                   SyscallTracepoints& syscalls)
      : tracefs_(tracefs), symbols_(symbols), kprobes_(kprobes), syscalls_(syscalls) {}
  void set_table(ProbeTable* table) { table_ = table; }
  void set_uprobes(Uprobes* uprobes) { uprobes_ = uprobes; }
  void set_sched(SchedTracepoints* sched) { sched_ = sched; }
  void set_kprobe_events(KprobeEventSwitch* events) { kprobe_events_ = events; }

  rt::Result<uint32_t> tracepoint_record_size(uint64_t id) override;
  const char* tracepoint_name(uint64_t id) override;
  // sys_enter and sys_exit (struct pt_regs *, long); GAP: no other raw tracepoints yet.
  rt::Result<uint32_t> raw_tracepoint_arguments(const char* name) override;
  // The POSIX server answers ESRCH for a pid it does not know before it forwards the call.
  bool task_exists(int32_t) override { return true; }
  rt::Result<void> arm(uint32_t probe, const ProbeSpec& spec) override;
  void disarm(uint32_t probe) override;
  void sample_task(int32_t tid, int32_t tgid, const char (&comm)[16]) override {
    if (kprobes_.observer() != nullptr) kprobes_.observer()->kernel_hit_task(tid, tgid, comm, 0);
  }

 private:
  struct Client final : KprobeClient {
    void on_hit(const PtRegs& regs, uint64_t address, TracedMemory& memory) override;
    void on_return(const PtRegs& regs, uint64_t function, uint64_t return_address,
                   TracedMemory& memory) override;
    [[gnu::always_inline]] void report(const PtRegs& regs);
    // fentry, fexit: the arguments as u64s (fexit: those of the call, then its return value).
    void report_arguments(const PtRegs& regs);
    bool listed() const override { return !multi && !tracing; }
    bool needs_entry_arguments() const override { return tracing && is_return; }
    ServerProbeHooks* owner = nullptr;
    bool is_return = false;
    bool multi = false;    // a kprobe_multi link's function
    bool tracing = false;  // a fentry or fexit program's (not a kprobe: Linux's trampoline)
    uint32_t arguments = 0;
    uint32_t probe = 0;  // 0: free
    uint64_t address = 0;
    // The table's Probe for `probe`, found at the first hit (it outlives the client: the table
    // disarms a probe, which clears its client, before it goes).
    Probe* target = nullptr;
    Probe* find_target();
  };
  static constexpr uint32_t kMaxArmed = 128;

  Tracefs& tracefs_;
  PosixSymbols& symbols_;
  Kprobes& kprobes_;
  SyscallTracepoints& syscalls_;
  ProbeTable* table_ = nullptr;
  Uprobes* uprobes_ = nullptr;
  SchedTracepoints* sched_ = nullptr;
  KprobeEventSwitch* kprobe_events_ = nullptr;
  Client clients_[kMaxArmed];
};

}  // namespace trace
