// SPDX-License-Identifier: MIT
// tracefs kprobe events on POSIX-server functions: enabling one arms its kprobe; each hit
// records the event's line in the trace buffer.
#pragma once

#include <stdint.h>

#include "kprobes.hpp"
#include "posix_symbols.hpp"
#include "sched_tracepoints.hpp"
#include "sys/server_start.hpp"
#include "syscall_tracepoints.hpp"
#include "trace/perf_events.hpp"
#include "trace/probe_hooks.hpp"
#include "trace/tracefs.hpp"
#include "uprobes.hpp"

namespace trace {

// The Linux process the POSIX server works for (sys::CurrentTask, read consistently).
struct CurrentTaskView {
  int32_t pid = 0;
  int32_t tgid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  char comm[16] = {};
  uint64_t task_struct = 0;  // its struct task_struct in the POSIX server
  uint64_t user_pages = 0;   // its page map (sys::user_page_map) in the POSIX server
  uint32_t cpu = 0;          // the CPU it runs on (its last fault message's)
  // sys::CurrentTask's: where the served call's user registers are (0: unknown).
  uint64_t serving_context = 0;
  uint32_t registers_offset = 0;
  // The record's sequence when this was read (odd: never read). The POSIX server bumps it
  // around every change, so an unchanged even sequence means an unchanged record.
  uint64_t sequence = 1;
};
namespace detail {
inline CurrentTaskView current_view;  // the last read
inline bool task_held = false;        // in a hit: current_view is kept once read
inline bool task_read = false;        // in a hit: current_view was read
void read_current_task_into(CurrentTaskView& view);
}  // namespace detail
// The task the POSIX server published last (valid until the next call).
inline const CurrentTaskView& read_current_task() {
  if (!detail::task_held || !detail::task_read) {
    detail::read_current_task_into(detail::current_view);
    detail::task_read = true;
  }
  return detail::current_view;
}
// The CPU of the task the POSIX server published last: that one word of the record (a
// probe event bound to a CPU asks for nothing else).
inline uint32_t current_task_cpu() {
  if (detail::task_held && detail::task_read) return detail::current_view.cpu;
  return reinterpret_cast<const volatile sys::CurrentTask*>(sys::kCurrentTaskPage)->cpu;
}
// A hit's task and CPU, for the events on `probe` that filter by them (perf's task and CPU
// binding): read only when an event is bound to a task (both), or to a CPU (that word alone).
inline void follow_task(const Probe& probe, ProbeHit& hit) {
  if ((probe.events_follow & Probe::kFollowsTask) != 0) {
    const CurrentTaskView& task = read_current_task();
    hit.cpu = task.cpu;
    hit.pid = task.pid;
  } else if (probe.events_follow != 0) {
    hit.cpu = current_task_cpu();
  }
}
// While a probe hit on the POSIX server is handled (the server is stopped, its record cannot
// change), read_current_task reads the record once, at its first call after hold (a hit whose
// programs ask nothing of the task reads nothing); release forgets it.
inline void hold_current_task() {
  detail::task_held = true;
  detail::task_read = false;
}
inline void release_current_task() { detail::task_held = false; }

class KprobeEventSwitch final : public EventSwitch {
 public:
  KprobeEventSwitch(Tracefs& tracefs, PosixSymbols& symbols, Kprobes& kprobes,
                    SyscallTracepoints& syscalls)
      : tracefs_(tracefs), symbols_(symbols), kprobes_(kprobes), syscalls_(syscalls) {}

  rt::Result<void> event_enabled(Event& event, bool enabled) override;
  // perf_event_open of a kprobe event's id (PERF_TYPE_TRACEPOINT: perf record -e probe:NAME
  // after perf probe): the event's kprobe armed for ProbeTable probe `probe`, each hit's record
  // reported to the table (its programs and perf events) instead of the trace buffer; the event
  // is busy (users) until disarm. A uprobe event's id (perf probe -x) goes to the Uprobes
  // (Uprobes::arm_tracepoint). has_probe_event: whether `id` is a kprobe or uprobe event's.
  bool has_probe_event(uint64_t id);
  [[nodiscard]] rt::Result<void> arm_tracepoint(uint32_t probe, uint64_t id);
  bool disarm(uint32_t probe);  // false when `probe` is none of ours
  void set_table(ProbeTable* table) { table_ = table; }
  void set_uprobes(Uprobes* uprobes) { uprobes_ = uprobes; }
  void set_sched(SchedTracepoints* sched) { sched_ = sched; }

 private:
  struct Client final : KprobeClient {
    void on_hit(const PtRegs& regs, uint64_t address, TracedMemory& memory) override;
    void on_return(const PtRegs& regs, uint64_t function, uint64_t return_address,
                   TracedMemory& memory) override;
    void record(const PtRegs& regs, uint64_t address, uint64_t return_address,
                TracedMemory& memory);
    bool listed() const override { return true; }
    KprobeEventSwitch* owner = nullptr;
    bool is_return = false;
    Event* event = nullptr;   // nullptr: free
    uint32_t perf_probe = 0;  // armed for a perf event's probe (0: for tracefs's enable)
    uint64_t address = 0;
  };
  static constexpr uint32_t kMaxEvents = 64;

  Tracefs& tracefs_;
  PosixSymbols& symbols_;
  Kprobes& kprobes_;
  SyscallTracepoints& syscalls_;
  Uprobes* uprobes_ = nullptr;
  SchedTracepoints* sched_ = nullptr;
  ProbeTable* table_ = nullptr;
  Client clients_[kMaxEvents];
  Event* find_probe_event(uint64_t id);
  // The event's kprobe on a free client (for tracefs, or perf probe `perf_probe`).
  rt::Result<void> arm(Event& event, uint32_t perf_probe);
};

}  // namespace trace
