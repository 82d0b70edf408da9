// SPDX-License-Identifier: MIT
// SchedTracepoints: a kprobe per hook function, armed by use count; each hit's arguments read
// as servers/posix/kernel/sched_tracepoints.hpp passes them, made into the event's record for
// tracefs and for the programs attached.
#include "sched_tracepoints.hpp"

#include "kernel_probes.hpp"
#include "kprobe_events.hpp"
#include "rt/errno.hpp"
#include "rt/format.hpp"
#include "sys/clock.hpp"

namespace trace {

namespace {

constexpr size_t kPathMax = 4096;

size_t length_of(const char* text) {
  size_t n = 0;
  while (text[n] != 0) ++n;
  return n;
}

// A NUL-terminated string of the POSIX server, at most `capacity - 1` bytes of it; its length
// (0 when it cannot be read).
size_t read_string(TracedMemory& memory, uint64_t address, char* out, size_t capacity) {
  size_t length = 0;
  while (length + 1 < capacity) {
    // Up to the end of the page, so that no read crosses into one that is not there.
    uint64_t at = address + length;
    size_t chunk = 4096 - (at & 4095);
    if (chunk > capacity - 1 - length) chunk = capacity - 1 - length;
    if (!memory.read(out + length, at, chunk)) break;
    for (size_t i = 0; i < chunk; ++i) {
      if (out[length + i] == 0) return length + i;
    }
    length += chunk;
  }
  out[length] = 0;
  return length;
}

}  // namespace

SchedTracepoints::SchedTracepoints(Tracefs& tracefs, PosixSymbols& symbols, Kprobes& kprobes)
    : tracefs_(tracefs), symbols_(symbols), kprobes_(kprobes) {
  for (size_t i = 0; i < kSchedEventCount; ++i) {
    hooks_[i].owner = this;
    hooks_[i].which = static_cast<SchedEvent>(i);
  }
}

bool SchedTracepoints::is_sched_event(const Event& event) {
  SchedEvent which;
  return event.source == EventSource::kBuiltin && sched_event_of(event, which);
}

Event* SchedTracepoints::find(uint64_t id) {
  EventRegistry& events = tracefs_.events();
  for (size_t i = 0; i < events.size(); ++i) {
    if (events.at(i).id == id) return &events.at(i);
  }
  return nullptr;
}

bool SchedTracepoints::has_tracepoint(uint64_t id) {
  Event* event = find(id);
  return event != nullptr && is_sched_event(*event);
}

rt::Result<void> SchedTracepoints::use(SchedEvent which) {
  Hook& hook = hooks_[static_cast<size_t>(which)];
  if (hook.users == 0) {
    const char* function = kSchedEvents[static_cast<size_t>(which)].hook;
    if (hook.address == 0 && !symbols_.resolve(function, length_of(function), 0, hook.address)) {
      return rt::err(rt::kENOENT, "the POSIX server has no sched tracepoint hooks");
    }
    TRY(kprobes_.attach(hook.address, &hook));
  }
  ++hook.users;
  return {};
}

void SchedTracepoints::unuse(SchedEvent which) {
  Hook& hook = hooks_[static_cast<size_t>(which)];
  if (hook.users == 0) return;
  if (--hook.users == 0) kprobes_.detach(hook.address, &hook);
}

rt::Result<void> SchedTracepoints::event_enabled(Event& event, bool enabled) {
  SchedEvent which;
  if (!sched_event_of(event, which)) return rt::err(rt::kEINVAL);
  if (enabled) return use(which);
  unuse(which);
  return {};
}

rt::Result<void> SchedTracepoints::arm_tracepoint(uint32_t probe, uint64_t id) {
  Event* event = find(id);
  SchedEvent which;
  if (event == nullptr || !sched_event_of(*event, which)) return rt::err(rt::kEOPNOTSUPP);
  for (Armed& armed : armed_) {
    if (armed.probe != 0) continue;
    TRY(use(which));
    armed = Armed{probe, which, static_cast<uint32_t>(id)};
    return {};
  }
  return rt::err(rt::kENOSPC, "too many sched tracepoint programs");
}

namespace {

// Linux 6.1's raw arguments of each event (its TP_PROTO): exec (task, old_pid, bprm); exit and
// free (task); fork (parent, child); signal_generate (sig, info, task, group, result); switch
// (preempt, prev, next, prev_state); waking, wakeup and wakeup_new (task); task_rename (task,
// comm); sched_stat_runtime (task, runtime, vruntime); sched_migrate_task (task, dest_cpu).
// GAP: sched_process_wait passes a struct pid and page_fault_user the fault's struct
// pt_regs, which the POSIX server does not have: no raw tracepoint (ENOENT).
constexpr uint32_t kRawArgumentCounts[kSchedEventCount] = {3, 1, 1, 0, 2, 5, 4,
                                                           1, 1, 1, 2, 0, 3, 2};

bool same(const char* a, const char* b) {
  size_t i = 0;
  while (a[i] != 0 && a[i] == b[i]) ++i;
  return a[i] == b[i];
}

bool raw_event_named(const char* name, SchedEvent& which) {
  for (size_t i = 0; i < kSchedEventCount; ++i) {
    if (kRawArgumentCounts[i] != 0 && same(name, kSchedEvents[i].name)) {
      which = static_cast<SchedEvent>(i);
      return true;
    }
  }
  return false;
}

}  // namespace

uint32_t SchedTracepoints::raw_arguments(const char* name) {
  SchedEvent which;
  return raw_event_named(name, which) ? kRawArgumentCounts[static_cast<size_t>(which)] : 0;
}

rt::Result<void> SchedTracepoints::arm_raw(uint32_t probe, const char* name) {
  SchedEvent which;
  if (!raw_event_named(name, which)) return rt::err(rt::kENOENT);
  for (Armed& armed : armed_) {
    if (armed.probe != 0) continue;
    TRY(use(which));
    armed = Armed{probe, which, 0};
    return {};
  }
  return rt::err(rt::kENOSPC, "too many sched tracepoint programs");
}

uint64_t SchedTracepoints::idle_task() {
  if (idle_task_ == 0) (void)symbols_.resolve_any("init_task", 9, idle_task_);
  return idle_task_;
}

bool SchedTracepoints::disarm(uint32_t probe) {
  bool found = false;
  for (Armed& armed : armed_) {
    if (armed.probe != probe || probe == 0) continue;
    unuse(armed.which);
    armed = Armed{};
    found = true;
  }
  return found;
}

void SchedTracepoints::Hook::on_hit(const PtRegs& regs, uint64_t, TracedMemory& memory) {
  owner->hit(which, regs, memory);
}

void SchedTracepoints::hit(SchedEvent which, const PtRegs& regs, TracedMemory& memory) {
  // The hooks' arguments (servers/posix/kernel/sched_tracepoints.hpp), in rdi, rsi, rdx, rcx,
  // r8, r9; ints are the low halves.
  static char text[2][kPathMax];
  SchedValues values;
  RawArguments raw;
  auto number = [](uint64_t reg) { return static_cast<int32_t>(static_cast<uint32_t>(reg)); };
  // An int argument as Linux's raw tracepoints pass it: sign-extended to u64.
  auto widened = [&](uint64_t reg) { return static_cast<uint64_t>(int64_t{number(reg)}); };
  auto string = [&](int slot, uint64_t address, size_t capacity) {
    values.text[slot] = text[slot];
    values.text_length[slot] = read_string(memory, address, text[slot], capacity);
  };
  switch (which) {
    case SchedEvent::kExec:  // (filename, pid, old_pid, task, bprm)
      string(0, regs.di, kPathMax);
      values.value[0] = number(regs.si);
      values.value[1] = number(regs.dx);
      raw = RawArguments{{regs.cx, widened(regs.dx), regs.r8}, 3};
      break;
    case SchedEvent::kExit:  // (comm, pid, prio, task)
    case SchedEvent::kFree:
    case SchedEvent::kWait:  // (comm, pid, prio)
      string(0, regs.di, 16);
      values.value[0] = number(regs.si);
      values.value[1] = number(regs.dx);
      if (which != SchedEvent::kWait) raw = RawArguments{{regs.cx}, 1};
      break;
    case SchedEvent::kFork:  // (parent_comm, parent_pid, child_comm, child_pid, parent, child)
      string(0, regs.di, 16);
      values.value[0] = number(regs.si);
      string(1, regs.dx, 16);
      values.value[1] = number(regs.cx);
      raw = RawArguments{{regs.r8, regs.r9}, 2};
      break;
    case SchedEvent::kSignalGenerate: {  // (sig, info, comm, pid, group, result, task)
      int32_t info[3] = {};              // si_signo, si_errno, si_code
      (void)memory.read(info, regs.si, sizeof info);
      values.value[0] = number(regs.di);
      values.value[1] = info[1];
      values.value[2] = info[2];
      string(0, regs.dx, 16);
      values.value[3] = number(regs.cx);
      values.value[4] = number(regs.r8);
      values.value[5] = number(regs.r9);
      uint64_t task = 0;  // the seventh argument, above the return address
      (void)memory.read(&task, regs.sp + 8, sizeof task);
      raw = RawArguments{{widened(regs.di), regs.si, task, widened(regs.r8), widened(regs.r9)}, 5};
      break;
    }
    case SchedEvent::kTaskRename:  // (pid, oldcomm, newcomm, oom_score_adj, task, exec)
      values.value[0] = number(regs.di);
      string(0, regs.si, 16);
      string(1, regs.dx, 16);
      values.value[1] = static_cast<int16_t>(regs.cx);
      raw = RawArguments{{regs.r8, regs.dx}, 2};
      break;
    case SchedEvent::kPageFaultUser:  // (address, ip, error_code, handled)
      values.wide[0] = regs.di;
      values.wide[1] = regs.si;
      values.wide[2] = regs.dx;
      break;
    case SchedEvent::kSwitch:
    case SchedEvent::kWakeup:
    case SchedEvent::kWakeupNew:
    case SchedEvent::kWaking:
    case SchedEvent::kStatRuntime:
    case SchedEvent::kMigrateTask: kernel_hit(which, regs, memory); return;
    case SchedEvent::kCount: return;
  }
  CurrentTaskView task = read_current_task();
  // On the stack, which programs' probe reads resolve here: bpf_probe_read_str(ctx + offset)
  // of sched_process_exec's filename reads this record, as on Linux.
  alignas(8) uint8_t record[kPathMax + 64];

  TraceContext context;
  context.timestamp_ns = sys::clock_ns();
  context.cpu = task.cpu;
  context.pid = task.pid;
  for (int c = 0; c < 16; ++c) context.comm[c] = task.comm[c];
  // As Linux's: a fault's irqs are off ("d"); a rename holds task_lock (preempt count 1).
  if (which == SchedEvent::kPageFaultUser) context.flags = kTraceIrqsOff;
  if (which == SchedEvent::kTaskRename) context.preempt_count = 1;
  deliver(which, values, raw, context, record, sizeof record);
}

void SchedTracepoints::deliver(SchedEvent which, const SchedValues& values, const RawArguments& raw,
                               const TraceContext& context, uint8_t* record, size_t capacity) {
  EventRegistry& events = tracefs_.events();
  for (size_t i = 0; i < events.size(); ++i) {
    Event& event = events.at(i);
    SchedEvent event_which;
    if (!event.enabled || !sched_event_of(event, event_which) || event_which != which) continue;
    uint32_t size = build_sched_record(which, static_cast<uint16_t>(event.id), context.pid, values,
                                       record, capacity);
    if (size == 0) continue;
    tracefs_.record_event(event, context, record, size);
  }

  if (table_ == nullptr) return;
  auto report_raw = [&](uint32_t probe) {
    ProbeHit hit;
    hit.pid = context.pid;
    hit.cpu = context.cpu;
    uint64_t arguments[5];
    for (uint32_t i = 0; i < raw.count; ++i) arguments[i] = raw.value[i];
    hit.context = arguments;
    hit.size = raw.count * 8;
    (void)table_->report_hit(probe, hit);
  };
  // An exec enables the task's enable_on_exec events before its tracepoint fires (Linux's
  // perf_event_exec in begin_new_exec): the table's exec watch goes first, so the events it
  // enables see this exec (perf record -e sched:sched_process_exec -- CMD).
  uint32_t first = which == SchedEvent::kExec ? table_->exec_watch_probe() : 0;
  if (first != 0) report_raw(first);
  for (const Armed& armed : armed_) {
    if (armed.probe == 0 || armed.which != which || armed.probe == first) continue;
    if (armed.event == 0) {  // a raw tracepoint program
      report_raw(armed.probe);
      continue;
    }
    uint32_t size = build_sched_record(which, static_cast<uint16_t>(armed.event), context.pid,
                                       values, record, capacity);
    if (size == 0) continue;
    ProbeHit hit;
    hit.pid = context.pid;
    hit.cpu = context.cpu;
    hit.context = record;
    hit.size = size;
    (void)table_->report_hit(armed.probe, hit);
  }
}

namespace {

// A Linux task as the microkernel's scheduling tracepoints pass it (sched_trace.hpp there):
// ids (tid low, pid high; 0 the CPU's idle task) and comm in two words.
struct KernelTask {
  int32_t tid = 0;
  int32_t tgid = 0;
  char comm[16] = {};
  size_t comm_length = 0;
};

KernelTask kernel_task(uint64_t ids, uint64_t comm0, uint64_t comm1, uint32_t cpu) {
  KernelTask task;
  task.tid = static_cast<int32_t>(static_cast<uint32_t>(ids));
  task.tgid = static_cast<int32_t>(ids >> 32);
  if (ids == 0) {  // Linux's idle task of that CPU
    rt::format_to(task.comm, sizeof task.comm, "swapper/%u", cpu);
    while (task.comm_length < 15 && task.comm[task.comm_length] != 0) ++task.comm_length;
    return task;
  }
  __builtin_memcpy(task.comm, &comm0, 8);
  __builtin_memcpy(task.comm + 8, &comm1, 8);
  task.comm[15] = 0;
  while (task.comm_length < 15 && task.comm[task.comm_length] != 0) ++task.comm_length;
  return task;
}

// Where a task_struct's __state is (servers/posix/kernel/linux_types.h; asserted there).
constexpr uint64_t kTaskStateOffset = 0;

// Linux's priority of a task of nice 0 (every Linux task here).
constexpr int32_t kDefaultPrio = 120;

// The task's __state that sched_switch's raw prev_state passes, from the record's prev_state
// (Linux's TASK_REPORT bit of it): the same bits but for a dead task (TASK_DEAD, whatever its
// exit_state) and an idle kernel thread (TASK_IDLE); a preempted task is TASK_RUNNING.
uint64_t raw_task_state(int64_t reported) {
  constexpr int64_t kExitDead = 0x10, kExitZombie = 0x20, kReportIdle = 0x80;
  constexpr uint64_t kTaskDead = 0x80, kTaskIdle = 0x402;
  if (reported == kSwitchPreempted) return 0;
  if (reported == kExitDead || reported == kExitZombie) return kTaskDead;
  if (reported == kReportIdle) return kTaskIdle;
  return static_cast<uint64_t>(reported);
}

}  // namespace

void SchedTracepoints::kernel_hit(SchedEvent which, const PtRegs& regs, TracedMemory& memory) {
  const sonde::abi::SampleRecord* sample = current_kernel_sample();
  if (sample == nullptr) return;
  auto cpu = static_cast<uint32_t>(sample->cpu);
  // Arguments 7..9 follow the return address on the stack (the sample's stack words).
  uint64_t stack[3] = {};
  if (!memory.read(stack, regs.sp + 8, sizeof stack)) return;
  SchedValues values;
  RawArguments raw;
  KernelTask current;
  KernelTask second;
  alignas(8) uint8_t record[128];
  // A task's task_struct (the idle task's is the POSIX server's init_task).
  auto task_of = [&](uint64_t ids, uint64_t task) { return ids == 0 ? idle_task() : task; };
  if (which == SchedEvent::kSwitch) {
    // (prev ids, prev comm x2, next ids, next comm x2, prev_state, prev task, next task)
    current = kernel_task(regs.di, regs.si, regs.dx, cpu);
    second = kernel_task(regs.cx, regs.r8, regs.r9, cpu);
    values.text[0] = current.comm;
    values.text_length[0] = current.comm_length;
    values.value[0] = current.tid;
    values.value[1] = kDefaultPrio;
    values.state = static_cast<int64_t>(stack[0]);
    values.text[1] = second.comm;
    values.text_length[1] = second.comm_length;
    values.value[2] = second.tid;
    values.value[3] = kDefaultPrio;
    raw = RawArguments{{values.state == kSwitchPreempted ? 1u : 0u, task_of(regs.di, stack[1]),
                        task_of(regs.cx, stack[2]), raw_task_state(values.state)},
                       4};
    // Programs read prev->__state (runqlat, cpudist: was it preempted?) after the fact: they
    // see it as it was at the switch, not as the POSIX server's record says now.
    SampleMemory* sampled = current_sample_memory();
    if (sampled != nullptr && regs.di != 0) {
      auto state = static_cast<uint32_t>(raw.value[3]);
      sampled->show_as_sampled(stack[1] + kTaskStateOffset, &state, sizeof state);
    }
  } else if (which == SchedEvent::kStatRuntime || which == SchedEvent::kMigrateTask) {
    // (ids, comm x2, runtime, vruntime, task) and (ids, comm x2, orig_cpu, dest_cpu, task): the
    // task's own context (Sonde's migrations come from its own sched_setaffinity).
    current = kernel_task(regs.di, regs.si, regs.dx, cpu);
    values.text[0] = current.comm;
    values.text_length[0] = current.comm_length;
    values.value[0] = current.tid;
    if (which == SchedEvent::kStatRuntime) {
      values.wide[0] = regs.cx;
      values.wide[1] = regs.r8;
      raw = RawArguments{{task_of(regs.di, regs.r9), regs.cx, regs.r8}, 3};
    } else {
      values.value[1] = kDefaultPrio;
      values.value[2] = static_cast<int32_t>(regs.cx);
      values.value[3] = static_cast<int32_t>(regs.r8);
      raw = RawArguments{{task_of(regs.di, regs.r9), regs.r8}, 2};
    }
  } else {
    // (ids, comm x2, target cpu, waker ids, waker comm x2, task, waker task)
    second = kernel_task(regs.di, regs.si, regs.dx, cpu);
    current = kernel_task(regs.r8, regs.r9, stack[0], cpu);
    values.text[0] = second.comm;
    values.text_length[0] = second.comm_length;
    values.value[0] = second.tid;
    values.value[1] = kDefaultPrio;
    values.value[2] = static_cast<int32_t>(regs.cx);
    raw = RawArguments{{task_of(regs.di, stack[1])}, 1};
  }
  TraceContext context;
  context.timestamp_ns = sample_time_ns(*sample);
  context.cpu = cpu;
  context.pid = current.tid;
  for (size_t c = 0; c < sizeof context.comm; ++c) context.comm[c] = current.comm[c];
  // Linux fires them with interrupts off in the scheduler: "d..2." (switch, and waking under
  // try_to_wake_up's pi_lock), "d..3." (wakeup, under the run queue's lock too).
  context.flags = kTraceIrqsOff;
  context.preempt_count = which == SchedEvent::kWakeup || which == SchedEvent::kWakeupNew ? 3 : 2;
  if (observer_ != nullptr) {
    uint64_t task = which == SchedEvent::kSwitch ? stack[1] : stack[2];
    if (which == SchedEvent::kStatRuntime || which == SchedEvent::kMigrateTask) task = regs.r9;
    observer_->kernel_hit_task(current.tid, current.tgid, current.comm, task);
  }
  deliver(which, values, raw, context, record, sizeof record);
}

}  // namespace trace
