// SPDX-License-Identifier: MIT
// The sched and signal tracepoints (sched:sched_process_{exec,exit,free,wait,fork},
// signal:signal_generate) for tracefs and for BPF tracepoint programs, fired by kprobes on the
// POSIX server's trace_sched_process_* and trace_signal_generate while anyone wants them; and
// sched_switch, sched_wakeup and sched_wakeup_new, fired by the microkernel's trace_sched_*
// (kernel probes: their hits are samples, delivered after the fact with the sample's time and
// CPU).
#pragma once

#include <stdint.h>

#include "kprobes.hpp"
#include "posix_symbols.hpp"
#include "trace/perf_events.hpp"
#include "trace/sched_events.hpp"
#include "trace/tracefs.hpp"

namespace trace {

class SchedTracepoints {
 public:
  SchedTracepoints(Tracefs& tracefs, PosixSymbols& symbols, Kprobes& kprobes);
  void set_table(ProbeTable* table) { table_ = table; }
  // Told which task a microkernel event's programs run for (the switch's prev, the waker).
  void set_observer(HitObserver* observer) { observer_ = observer; }

  static bool is_sched_event(const Event& event);
  [[nodiscard]] rt::Result<void> event_enabled(Event& event, bool enabled);

  // Whether event `id` is one of ours; a tracepoint program's probe on it.
  bool has_tracepoint(uint64_t id);
  [[nodiscard]] rt::Result<void> arm_tracepoint(uint32_t probe, uint64_t id);
  // The number of u64 arguments of raw tracepoint `name` (Linux 6.1's TP_PROTO), 0 when it is
  // none of ours; a raw tracepoint program's probe on it.
  static uint32_t raw_arguments(const char* name);
  [[nodiscard]] rt::Result<void> arm_raw(uint32_t probe, const char* name);
  // false when `probe` is none of ours.
  bool disarm(uint32_t probe);

 private:
  struct Hook final : KprobeClient {
    void on_hit(const PtRegs& regs, uint64_t address, TracedMemory& memory) override;
    SchedTracepoints* owner = nullptr;
    SchedEvent which = SchedEvent::kExec;
    uint64_t address = 0;
    uint32_t users = 0;
  };
  struct Armed {
    uint32_t probe = 0;  // 0: free
    SchedEvent which = SchedEvent::kExec;
    uint32_t event = 0;  // the tracepoint's id; 0 for a raw tracepoint
  };
  // A hit's raw tracepoint arguments, as Linux passes them.
  struct RawArguments {
    uint64_t value[5] = {};
    uint32_t count = 0;
  };
  static constexpr uint32_t kMaxArmed = 64;

  Event* find(uint64_t id);
  [[nodiscard]] rt::Result<void> use(SchedEvent which);
  void unuse(SchedEvent which);
  void hit(SchedEvent which, const PtRegs& regs, TracedMemory& memory);
  // The microkernel's events: kernel samples, the task in them.
  void kernel_hit(SchedEvent which, const PtRegs& regs, TracedMemory& memory);
  // To tracefs and to the programs armed on `which`.
  void deliver(SchedEvent which, const SchedValues& values, const RawArguments& raw,
               const TraceContext& context, uint8_t* record, size_t capacity);
  // The task_struct Linux passes for the idle task (the POSIX server's init_task); 0 when the
  // server has none.
  uint64_t idle_task();

  Tracefs& tracefs_;
  PosixSymbols& symbols_;
  Kprobes& kprobes_;
  ProbeTable* table_ = nullptr;
  HitObserver* observer_ = nullptr;
  Hook hooks_[kSchedEventCount];
  Armed armed_[kMaxArmed];
  uint64_t idle_task_ = 0;
};

}  // namespace trace
