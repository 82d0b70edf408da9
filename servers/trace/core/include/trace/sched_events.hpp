// SPDX-License-Identifier: MIT
// The sched, signal, task and exceptions tracepoints (sched:sched_process_{exec,exit,free,wait,
// fork}, sched_switch, sched_wakeup, sched_wakeup_new, signal:signal_generate, task:task_rename,
// exceptions:page_fault_user): their records as
// Linux 6.1's format files lay them out, built from the values the POSIX server's hook functions
// pass, and the lines tracefs prints for them.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "trace/events.hpp"
#include "trace/text_buffer.hpp"

namespace trace {

enum class SchedEvent : uint8_t {
  kExec,
  kExit,
  kFree,
  kWait,
  kFork,
  kSignalGenerate,
  kSwitch,
  kWakeup,
  kWakeupNew,
  kWaking,
  kTaskRename,
  kPageFaultUser,
  kStatRuntime,
  kMigrateTask,
  kCount,
};

// The events the microkernel fires (sched_trace.hpp there): their hits are kernel samples.
inline bool is_kernel_sched_event(SchedEvent which) {
  return which == SchedEvent::kSwitch || which == SchedEvent::kWakeup ||
         which == SchedEvent::kWakeupNew || which == SchedEvent::kWaking ||
         which == SchedEvent::kStatRuntime || which == SchedEvent::kMigrateTask;
}
inline constexpr size_t kSchedEventCount = static_cast<size_t>(SchedEvent::kCount);

// Each event's system and name, and the function that fires it: the POSIX server's
// (servers/posix/kernel/sched_tracepoints.hpp gives their arguments) or the microkernel's
// (`microkernel:NAME`, microkernel/kernel/sched_trace.hpp).
struct SchedEventName {
  const char* system;
  const char* name;
  const char* hook;
};
extern const SchedEventName kSchedEvents[kSchedEventCount];

// Which of them `event` is; false for any other event.
bool sched_event_of(const Event& event, SchedEvent& which);

// What a hit carries, in the order of the record's fields:
//   exec: text[0] filename; value[0] pid, value[1] old_pid
//   exit, free, wait: text[0] comm; value[0] pid, value[1] prio
//   fork: text[0] parent comm, value[0] parent pid, text[1] child comm, value[1] child pid
//   signal_generate: value[0] sig, [1] errno, [2] code, text[0] comm, value[3] pid,
//     value[4] group, value[5] result
//   sched_switch: text[0] prev comm, value[0] prev pid, value[1] prev prio, state (prev_state),
//     text[1] next comm, value[2] next pid, value[3] next prio
//   sched_wakeup, sched_wakeup_new, sched_waking: text[0] comm, value[0] pid, value[1] prio,
//     value[2] target cpu
//   task_rename: value[0] pid, text[0] oldcomm, text[1] newcomm, value[1] oom_score_adj
//   page_fault_user: wide[0] address, wide[1] ip, wide[2] error_code
//   sched_stat_runtime: text[0] comm, value[0] pid, wide[0] runtime, wide[1] vruntime
//   sched_migrate_task: text[0] comm, value[0] pid, value[1] prio, value[2] orig_cpu,
//     value[3] dest_cpu
// Texts need no NUL within their length (comm is cut to 15 characters).
struct SchedValues {
  const char* text[2] = {};
  size_t text_length[2] = {};
  int32_t value[6] = {};
  int64_t state = 0;
  uint64_t wide[3] = {};
};

// sched_switch's prev_state: Linux's TASK_REPORT bits, and TASK_REPORT_MAX for a task that
// was preempted (shown "R+").
inline constexpr int64_t kSwitchPreempted = 0x100;

// The record (common fields first, `type` and `common_pid` filled) in `out`; its size, 0 when
// it does not fit in `capacity`.
uint32_t build_sched_record(SchedEvent which, uint16_t type, int32_t common_pid,
                            const SchedValues& values, uint8_t* out, size_t capacity);

// The line text after "NAME: " for a record of `which`, as Linux's print fmt gives it.
void render_sched_text(SchedEvent which, const uint8_t* record, size_t size, TextBuffer& out);

}  // namespace trace
