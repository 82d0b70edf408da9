// SPDX-License-Identifier: MIT
// Software counters (Linux's task_clock and perf_swevent PMUs): the task clock, context switches
// and CPU migrations from sched:sched_switch (the microkernel's samples, each with its CPU and
// time), page faults from the POSIX server's fault hook.
#include "trace/perf_events.hpp"

namespace trace {
namespace {

// sched:sched_switch's id and record (prev_pid, prev_state, next_pid); prev_state's EXIT_DEAD
// and EXIT_ZOMBIE bits say the task is gone.
constexpr uint64_t kSchedSwitchId = 319;
constexpr uint32_t kPrevPidOffset = 24;
constexpr uint32_t kPrevStateOffset = 32;
constexpr uint32_t kNextPidOffset = 56;
constexpr int64_t kTaskGone = 0x10 | 0x20;
// The POSIX server calls trace_page_fault_user(address, ip, error_code, handled) for each page
// fault of a Linux task it takes (handled: resolved without a signal).
constexpr char kFaultHook[] = "trace_page_fault_user";

template <typename T>
T field(const ProbeHit& hit, uint32_t offset) {
  T value{};
  if (offset + sizeof(T) <= hit.size)
    __builtin_memcpy(&value, static_cast<const uint8_t*>(hit.context) + offset, sizeof(T));
  return value;
}

bool is_task_clock(const PerfEventObject& event) {
  return event.attr.type == kPerfTypeSoftware && event.attr.config == kPerfCountSwTaskClock;
}

// The part of [since, until) the event has been enabled for (since its last enabling: samples
// come after the fact, so a switch before an enable_on_exec is seen after it).
uint64_t enabled_part(const PerfEventObject& event, uint64_t since, uint64_t until) {
  if (!event.enabled) return 0;
  uint64_t from = since > event.enabled_since ? since : event.enabled_since;
  return until > from ? until - from : 0;
}

size_t find_task(const PerfEventObject& event, int32_t tid) {
  for (size_t i = 0; i < event.tasks.size(); ++i) {
    if (event.tasks[i].tid == tid) return i;
  }
  return event.tasks.size();
}

// The task's entry, made on first sight; nullptr without memory (GAP: its time is not counted).
CountedTask* track(PerfEventObject& event, int32_t tid) {
  size_t i = find_task(event, tid);
  if (i == event.tasks.size()) {
    CountedTask task;
    task.tid = tid;
    if (!event.tasks.push_back(static_cast<CountedTask&&>(task))) return nullptr;
  }
  return &event.tasks[i];
}

// The task leaves its CPU at `now`: the task clock counts the interval it was on it.
void leaves_cpu(PerfEventObject& event, CountedTask& task, uint64_t now) {
  if (task.cpu < 0) return;
  if (is_task_clock(event)) event.count += enabled_part(event, task.since, now);
  task.cpu = -1;
}

bool remove(Vector<PerfEventObject*>& list, const PerfEventObject* event) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] != event) continue;
    list.erase(i);
    return true;
  }
  return false;
}

}  // namespace

CounterSource counter_source(uint64_t config) {
  switch (config) {
    case kPerfCountSwTaskClock:
    case kPerfCountSwContextSwitches:
    case kPerfCountSwCpuMigrations: return CounterSource::kSwitches;
    case kPerfCountSwPageFaults:
    case kPerfCountSwPageFaultsMin: return CounterSource::kFaults;
    default: return CounterSource::kNone;
  }
}

rt::Result<void> ProbeTable::watch_counter(PerfEventObject* event) {
  CounterSource source = counter_source(event->attr.config);
  // A CPU's task clock is its time enabled (as its CPU clock): nothing to watch.
  if (source == CounterSource::kNone || (is_task_clock(*event) && event->pid == -1)) return {};
  bool switches = source == CounterSource::kSwitches;
  Probe*& probe = switches ? switch_probe_ : fault_probe_;
  Vector<PerfEventObject*>& counters = switches ? switch_counters_ : fault_counters_;
  if (probe == nullptr) {
    ProbeSpec spec;
    uint32_t size = kPtRegsSize;
    if (switches) {
      spec.kind = ProbeKind::kTracepoint;
      spec.tracepoint_id = kSchedSwitchId;
      size = TRY(hooks_.tracepoint_record_size(kSchedSwitchId));
    } else {
      spec.kind = ProbeKind::kKprobe;
      spec.symbol = kFaultHook;
    }
    probe = TRY(open_probe(spec, size));
    probe->watches |= switches ? Probe::kWatchesSwitches : Probe::kWatchesFaults;
    // The hook's hits must find out their task and CPU (the switches' samples carry theirs).
    if (!switches) probe->events_follow = Probe::kFollowsTask | Probe::kFollowsCpu;
  }
  if (!counters.push_back(static_cast<PerfEventObject*>(event))) {
    if (counters.size() == 0) close_counter_probe(switches);
    return rt::err(rt::kENOMEM);
  }
  event->watches_counts = true;
  // The calling task is on its CPU now (it waits for this call there): a count of its own
  // starts running.
  ebpf::Environment& environment = objects_.environment();
  if (switches && event->pid == static_cast<int32_t>(environment.current_pid_tgid() & 0x7fffffff)) {
    if (CountedTask* task = track(*event, event->pid)) {
      task->cpu = task->last_cpu = static_cast<int32_t>(environment.current_cpu());
      task->since = environment.monotonic_ns();
    }
  }
  return {};
}

void ProbeTable::close_counter_probe(bool switches) {
  Probe*& probe = switches ? switch_probe_ : fault_probe_;
  if (probe == nullptr) return;
  probe->watches &=
      static_cast<uint16_t>(~(switches ? Probe::kWatchesSwitches : Probe::kWatchesFaults));
  close_probe(probe);
  probe = nullptr;
}

void ProbeTable::unwatch_counter(PerfEventObject* event) {
  event->watches_counts = false;
  if (remove(switch_counters_, event) && switch_counters_.size() == 0) close_counter_probe(true);
  if (remove(fault_counters_, event) && fault_counters_.size() == 0) close_counter_probe(false);
}

void ProbeTable::switch_seen(const ProbeHit& hit) {
  int32_t prev = field<int32_t>(hit, kPrevPidOffset);
  int32_t next = field<int32_t>(hit, kNextPidOffset);
  bool prev_gone = (field<int64_t>(hit, kPrevStateOffset) & kTaskGone) != 0;
  auto cpu = static_cast<int32_t>(hit.cpu);
  uint64_t now = objects_.environment().monotonic_ns();
  for (PerfEventObject* event : switch_counters_) {
    if (!event->on_cpu(hit.cpu)) continue;
    bool switches = event->attr.config == kPerfCountSwContextSwitches;
    if (event->pid == -1) {
      // A CPU's: every switch there (perf_event_task_sched_out counts the idle task's too).
      // GAP: a CPU's migrations are not counted (tasks move only by sched_setaffinity).
      if (switches && event->enabled) {
        ++event->count;
        if (event->attr.sample_period != 0) switch_sample(*event, hit, prev);
      }
      continue;
    }
    // The task leaving: followed, or an heir that exited (its entry outlives its exit_seen,
    // which comes before the sample of its last switch is drained).
    size_t i = prev != 0 ? find_task(*event, prev) : event->tasks.size();
    if (prev != 0 && (i != event->tasks.size() || event->follows_task(prev))) {
      if (switches && event->enabled) {
        ++event->count;
        if (event->attr.sample_period != 0) switch_sample(*event, hit, prev);
      }
      if (i == event->tasks.size() && is_task_clock(*event)) {
        // On a CPU since before anything was seen of it: since its enabling, at most.
        event->count += enabled_part(*event, 0, now);
      }
      if (i != event->tasks.size()) {
        // (A switch on a CPU it has since left unseen closes nothing.)
        if (event->tasks[i].cpu == cpu) leaves_cpu(*event, event->tasks[i], now);
        if (prev_gone) event->tasks.erase(i);
      } else if (!prev_gone) {
        if (CountedTask* task = track(*event, prev)) task->last_cpu = cpu;
      }
    }
    if (next == 0 || !event->follows_task(next)) continue;
    CountedTask* task = track(*event, next);
    if (task == nullptr) continue;
    leaves_cpu(*event, *task, now);  // it left its last CPU unseen (sched_trace_switch_in)
    if (event->attr.config == kPerfCountSwCpuMigrations && event->enabled && task->last_cpu >= 0 &&
        task->last_cpu != cpu) {
      ++event->count;
    }
    task->cpu = task->last_cpu = cpu;
    task->since = now;
  }
}

namespace {

// perf_swevent_event's count down: true at the end of a period (its length in `period`). GAP:
// a frequency (perf record's default -F) samples every event, where Linux adjusts the period
// to the rate.
bool period_ends(PerfEventObject& event, uint64_t& period) {
  period = event.attr.has(kPerfAttrFreq) ? 1 : event.attr.sample_period;
  if (event.period_left == 0 || event.period_left > period) event.period_left = period;
  return --event.period_left == 0;
}

// A perf_event program's context at a sample: registers of the mode it was taken in.
PerfEventData sample_data(uint64_t ip, bool kernel, uint64_t period, uint64_t addr) {
  PerfEventData data = {};
  PtRegs regs = {};
  regs.ip = ip;
  regs.cs = kernel ? 0x10 : 0x33;
  regs.ss = kernel ? 0x18 : 0x2b;
  regs.flags = kernel ? 0 : 0x202;
  __builtin_memcpy(data.regs, &regs, sizeof regs);
  data.sample_period = period;
  data.addr = addr;
  return data;
}

}  // namespace

void ProbeTable::switch_sample(PerfEventObject& event, const ProbeHit& hit, int32_t prev) {
  // perf_sw_event_sched in the task leaving: a sample each period's end (bpftrace's
  // `software:cs:N`, perf record -e cs). GAP: the microkernel's switch gives no ip (0, kernel
  // mode).
  uint64_t period = 0;
  if (!period_ends(event, period)) return;
  if (event.program != nullptr) {
    PerfEventData data = sample_data(0, true, period, 0);
    // Its stacks are the microkernel sample's (the leaving task's user stack while it waits
    // in a call), as the scheduling tracepoints' programs see them.
    if (objects_.run(*event.program, &data, RunContext{event.cookie, 0}) == 0) return;
  }
  PerfEventRing* ring = event.output_ring();
  if (ring == nullptr) return;
  ebpf::Environment& environment = objects_.environment();
  PerfSampleFields fields =
      event.record_fields(static_cast<uint32_t>(environment.current_pid_tgid() >> 32),
                          static_cast<uint32_t>(prev), environment.monotonic_ns(), hit.cpu);
  fields.period = period;
  fields.misc = kPerfRecordMiscKernel;
  (void)ring->output_sample(fields, nullptr, 0);
}

void ProbeTable::fault_seen(const ProbeHit& hit) {
  PtRegs regs;  // di the address, si the ip, cx whether it was handled
  if (!registers_of(hit, regs)) return;
  bool handled = regs.cx != 0;
  for (PerfEventObject* event : fault_counters_) {
    if (!event->enabled || !event->on_cpu(hit.cpu) || !event->follows_task(hit.pid)) continue;
    // page-faults: every fault (do_user_addr_fault); minor-faults: those resolved
    // (mm_account_fault; none needs I/O here, so no major ones).
    if (event->attr.config == kPerfCountSwPageFaultsMin && !handled) continue;
    ++event->count;
    if (event->attr.sample_period != 0) fault_sample(*event, hit, regs);
  }
}

void ProbeTable::fault_sample(PerfEventObject& event, const ProbeHit& hit, const PtRegs& regs) {
  // perf_swevent_event: a sample each period's end, with the fault's ip and address
  // (PERF_SAMPLE_ADDR: perf record -d).
  uint64_t period = 0;
  if (!period_ends(event, period)) return;
  if (event.program != nullptr) {
    // bpf_overflow_handler: the event's program on the faulting user registers (bpftrace's
    // `software:page-faults:N`), the fault's address as addr; 0 drops the sample. The task is
    // the faulting one (the hook runs in the call that serves the fault).
    PerfEventData data = sample_data(regs.si, false, period, regs.di);
    SampledRegisters sampled{regs.si, false};
    if (objects_.run_on_sample(*event.program, &data, RunContext{event.cookie, 0}, sampled) == 0)
      return;
  }
  PerfEventRing* ring = event.output_ring();
  if (ring == nullptr) return;
  ebpf::Environment& environment = objects_.environment();
  PerfSampleFields fields =
      event.record_fields(static_cast<uint32_t>(environment.current_pid_tgid() >> 32),
                          static_cast<uint32_t>(hit.pid), environment.monotonic_ns(), hit.cpu);
  fields.period = period;
  fields.misc = kPerfRecordMiscUser;
  fields.ip = regs.si;
  fields.addr = regs.di;
  Callchain chain;  // GAP: the faulting ip alone, no walk of the user stack
  if (event.attr.sample_type & kPerfSampleCallchain) {
    fields.callchain_length = ip_callchain(event.attr, fields.ip, false, chain);
    fields.callchain = chain;
  }
  (void)ring->output_sample(fields, nullptr, 0);
}

uint64_t software_count(const PerfEventObject& event, uint64_t now) {
  uint64_t count = event.count;
  if (!is_task_clock(event)) return count;
  for (const CountedTask& task : event.tasks) {
    if (task.cpu >= 0) count += enabled_part(event, task.since, now);
  }
  return count;
}

void stop_task_clock(PerfEventObject& event, uint64_t now, bool count) {
  if (!is_task_clock(event)) return;
  for (CountedTask& task : event.tasks) {
    if (task.cpu < 0) continue;
    if (count) event.count += enabled_part(event, task.since, now);
    task.since = now;
  }
}

}  // namespace trace
