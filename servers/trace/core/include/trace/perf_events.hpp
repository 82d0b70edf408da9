// SPDX-License-Identifier: MIT
// Perf events (perf_event_open, their ioctls, read, mmap) and the probes their programs run on.
#pragma once

#include <stdint.h>

#include "ebpf/perf_buffer.hpp"
#include "rt/result.hpp"
#include "trace/objects.hpp"
#include "trace/perf_event_attr.hpp"
#include "trace/perf_event_uapi.hpp"
#include "trace/perf_ring.hpp"
#include "trace/probe_hooks.hpp"
#include "trace/probe_record.hpp"
#include "trace/session.hpp"
#include "trace/user_memory.hpp"
#include "trace/vector.hpp"

namespace trace {

struct PerfEventObject;

// A program on a probe, with the bpf_cookie its link gave (0 for PERF_EVENT_IOC_SET_BPF).
struct AttachedProgram {
  ProgramObject* program = nullptr;
  uint64_t cookie = 0;
};

// One armed probe (Linux's trace_event_call with its prog_array, or a raw tracepoint): shared
// by every perf event on the same tracepoint id and every link on the same raw tracepoint; a
// kprobe or uprobe perf event has its own, as Linux creates a local trace_kprobe per event.
struct Probe {
  explicit Probe(rt::Allocator& allocator) : programs(allocator) {}
  uint32_t number = 0;  // what the server's hits name
  ProbeKind kind = ProbeKind::kKprobe;
  uint64_t tracepoint_id = 0;
  // What BPF_TASK_FD_QUERY reports: the raw tracepoint's or tracepoint's name, the kprobe's
  // symbol (empty when by address) or the uprobe's path; offset, address, return probe.
  char name[256] = {};
  uint64_t offset = 0;
  uint64_t address = 0;
  bool is_return = false;
  uint32_t context_size = 0;          // tracepoint record size, raw tracepoint arguments * 8
  uint32_t users = 0;                 // perf events and links on it
  Vector<AttachedProgram> programs;   // in attach order (bpf_prog_array_copy appends)
  PerfEventObject* events = nullptr;  // the perf events on it (next_on_probe)
  // What those events filter hits by (kFollowsTask, kFollowsCpu), for the hits that must
  // find out the current task; kept by link_event and unlink_event.
  uint8_t events_follow = 0;
  static constexpr uint8_t kFollowsTask = 1;  // an event with pid > 0
  static constexpr uint8_t kFollowsCpu = 2;   // an event with cpu >= 0
  // What the table itself watches the probe for (ProbeTable::watched_hit): kWatchesExec, the
  // sched_process_exec raw tracepoint while perf events watch execs (enable_on_exec, or
  // attr.comm's PERF_RECORD_COMM: exec_seen); kWatchesForks and kWatchesExits, the
  // sched:sched_process_fork and sched_process_exit tracepoints while inherited events watch
  // forks (fork_seen, exit_seen). One word, so a hit tests it once.
  uint16_t watches = 0;
  static constexpr uint16_t kWatchesExec = 1;
  static constexpr uint16_t kWatchesForks = 2;
  static constexpr uint16_t kWatchesExits = 4;
  // sched:sched_switch and the POSIX server's page faults while software counters count them
  // (switch_seen, fault_seen).
  static constexpr uint16_t kWatchesSwitches = 8;
  static constexpr uint16_t kWatchesFaults = 16;
  // The POSIX server's trace_task_rename while exec watchers are (a prctl's new name is a
  // PERF_RECORD_COMM: rename_seen).
  static constexpr uint16_t kWatchesRenames = 32;
  // The microkernel's trace_cpu_clock_tick while CPU_CLOCK events sample (tick_seen).
  static constexpr uint16_t kWatchesTicks = 64;
  // The POSIX server's trace_vma_mapped while exec watchers are (mmap_seen).
  static constexpr uint16_t kWatchesMmaps = 128;
  // The POSIX server's trace_task_forked and trace_task_exited while exec watchers are
  // (PERF_RECORD_FORK and EXIT: task_seen).
  static constexpr uint16_t kWatchesTasks = 256;
};

// A task a software counter follows, as sched_switch shows it (task_counters.cpp).
struct CountedTask {
  int32_t tid = 0;
  int32_t cpu = -1;       // the CPU it is on now; -1: off every CPU (or not seen yet)
  int32_t last_cpu = -1;  // the CPU it last came on
  uint64_t since = 0;     // when it came on `cpu`
};

// What a software counter counts from (PERF_COUNT_SW_*): the scheduling events (task clock,
// context switches, CPU migrations), the page faults, or nothing that can happen on Sonde
// (major, alignment and emulation faults, cgroup switches, the dummy event: 0, as Linux's
// in a guest like this counts them).
enum class CounterSource : uint8_t { kNone, kSwitches, kFaults };
// The source of a software event's config; kNone for CPU_CLOCK and BPF_OUTPUT too.
CounterSource counter_source(uint64_t config);

// A perf event handle's object. Linux gives perf events no id: only handles (and the perf
// event arrays, links and mappings that hold one) keep it alive.
struct PerfEventObject final : Object, ebpf::PerfEventOutput {
  explicit PerfEventObject(rt::Allocator& allocator) : heirs(allocator), tasks(allocator) {}
  PerfEventAttr attr = {};
  int32_t pid = -1;                          // the task followed (-1: every task on `cpu`)
  int32_t cpu = -1;                          // -1: wherever the task runs
  uint64_t event_id = 0;                     // PERF_EVENT_IOC_ID, PERF_FORMAT_ID, the samples' id
  Probe* probe = nullptr;                    // kprobe, uprobe and tracepoint events
  PerfEventObject* next_on_probe = nullptr;  // or in the ProbeTable's CPU_CLOCK list
  bool enabled = false;
  bool awaiting_exec = false;  // opened disabled with enable_on_exec: its task's exec enables it
  bool watches_exec = false;   // in the ProbeTable's exec watchers (awaiting_exec or attr.comm)
  // attr.inherit on a task (pid > 0): the tasks forked from it, and from those, since it was
  // opened (ProbeTable::fork_seen, on sched_process_fork), whose hits it counts and records
  // as its own, as Linux sums inherited child events into the parent's, until they exit
  // (exit_seen, on sched_process_exit).
  Vector<int32_t> heirs;
  bool watches_forks = false;  // in the ProbeTable's fork watchers
  // A software counter on a task counting from the scheduling events: where the tasks it
  // follows run (the task clock's open intervals, the migrations).
  Vector<CountedTask> tasks;
  bool watches_counts = false;  // in the ProbeTable's switch or fault counters
  uint64_t count = 0;
  uint64_t period_left = 0;  // CPU_CLOCK sampling: nanoseconds to the next sample
  uint64_t enabled_ns = 0;   // time enabled before `enabled_since`
  uint64_t enabled_since = 0;
  ProgramObject* program = nullptr;  // event->prog: one reference while attached
  uint64_t cookie = 0;
  PerfEventRing* ring = nullptr;  // from the first mmap until the last munmap
  // PERF_EVENT_IOC_SET_OUTPUT: the event whose ring this one's records go to (one reference),
  // as Linux attaches the output event's perf_buffer; its munmap ends the output.
  PerfEventObject* output = nullptr;
  PerfEventRing* output_ring() const { return output != nullptr ? output->ring : ring; }
  // What a record of this event carries (its sample_type, sample_id_all, id) for task
  // pid/tid at `time` on `cpu`; the caller adds the period and ip of samples.
  PerfSampleFields record_fields(uint32_t pid, uint32_t tid, uint64_t time, uint32_t cpu) const {
    PerfSampleFields fields;
    fields.sample_type = attr.sample_type;
    fields.sample_id_all = attr.has(kPerfAttrSampleIdAll);
    fields.event_id = event_id;
    fields.pid = pid;
    fields.tid = tid;
    fields.time = time;
    fields.cpu = cpu;
    return fields;
  }
  uint32_t mappings = 0;
  ObjectTable* table = nullptr;

  // Whether the event records its tasks' side-band (attr.comm, mmap, mmap2, task): COMMs at
  // execs and renames, MMAPs of their executable mappings, FORKs and EXITs (perf_event_task_match;
  // exec watchers keep it).
  bool records_task_events() const {
    return attr.has(kPerfAttrComm) || attr.has(kPerfAttrMmap) || attr.has(kPerfAttrMmap2) ||
           attr.has(kPerfAttrTask);
  }
  // Whether the event counts on `cpu`: it is bound to none, or to that one.
  bool on_cpu(uint32_t cpu_index) const {
    return cpu < 0 || static_cast<uint32_t>(cpu) == cpu_index;
  }
  // Whether the event follows task `tid`: every task (pid -1), its own, or one of its heirs.
  bool follows_task(int32_t tid) const {
    if (pid <= 0 || pid == tid) return true;
    for (size_t i = 0; i < heirs.size(); ++i) {
      if (heirs[i] == tid) return true;
    }
    return false;
  }

  // bpf_perf_event_output into this event (a perf event array slot): Linux's checks (a
  // BPF_OUTPUT software event, EINVAL; enabled on this CPU, EOPNOTSUPP), then the ring.
  long output_from(uint32_t cpu, const void* data, uint64_t size) override;
};

// struct bpf_perf_event_data: what a perf_event program sees at a sample.
struct PerfEventData {
  uint8_t regs[kPtRegsSize];
  uint64_t sample_period;
  uint64_t addr;
};
static_assert(sizeof(PerfEventData) == kPtRegsSize + 16);

// A kprobe hit's registers (its context is Linux's struct pt_regs); false for a shorter one.
inline bool registers_of(const ProbeHit& hit, PtRegs& regs) {
  if (hit.context == nullptr || hit.size < sizeof(PtRegs)) return false;
  __builtin_memcpy(&regs, hit.context, sizeof(PtRegs));
  return true;
}

// PERF_SAMPLE_CALLCHAIN, as Linux's get_perf_callchain lays it out: PERF_CONTEXT_KERNEL and
// the kernel stack when the sample is in the kernel (the POSIX server: its stack, at its kernel
// alias), then PERF_CONTEXT_USER and the user stack of the task, each left out when the event's
// exclude_callchain_kernel/_user says so; sample_max_stack (or 127) entries at most.
inline constexpr uint32_t kCallchainCapacity = kPerfEventMaxStack + 2;
using Callchain = uint64_t[kCallchainCapacity];
// Whether a probe's samples are in user mode as Linux's: uprobes, and syscalls:sys_enter_* and
// sys_exit_* (their samples carry the system call's user registers).
bool samples_user_registers(const Probe& probe);
// A hit's, from the environment's stack walks (bpf_get_stack's).
uint32_t hit_callchain(const PerfEventAttr& attr, ebpf::Environment& environment, bool in_kernel,
                       Callchain& chain);
// A sample that knows only where it was taken (a timer tick, a fault): that ip alone.
uint32_t ip_callchain(const PerfEventAttr& attr, uint64_t ip, bool in_kernel, Callchain& chain);

// Puts `event` on its probe's list, or takes it off; the probe's events_follow follows.
void link_event(Probe& probe, PerfEventObject* event);
void unlink_event(Probe& probe, PerfEventObject* event);

// The probes of one trace-server instance, the hooks that arm them, and Linux's global perf
// event id counter. Set on the ObjectTable (set_probes) so bpf() finds it; the sessions must be
// closed before it goes (it disarms whatever is still armed).
class ProbeTable {
 public:
  ProbeTable(ObjectTable& objects, ProbeHooks& hooks);
  ~ProbeTable();
  ProbeTable(const ProbeTable&) = delete;
  ProbeTable& operator=(const ProbeTable&) = delete;

  ObjectTable& objects() { return objects_; }
  ProbeHooks& hooks() { return hooks_; }

  // The server reports a hit of armed probe `probe`: its programs run on hit.context in attach
  // order (trace_call_bpf: the result is 1 only if every program's return value has bit 0
  // set); then, unless that result is 0, each enabled perf event on the probe that follows the
  // hit's task and CPU counts one. The number of programs run (0 for an unknown probe).
  uint32_t report_hit(uint32_t probe, const ProbeHit& hit);
  // The same for a probe the caller found (find) and keeps while it is armed (a probe is
  // disarmed before it goes). Inline: every probe hit comes this way.
  [[gnu::always_inline]] uint32_t report_hit(Probe& probe, const ProbeHit& hit) {
    // Programs may read the whole context their type allows; a shorter one is padded.
    if (hit.size < readable_context(probe.kind)) return report_short_hit(probe, hit);
    return run_and_count(probe, hit, hit.context);
  }

  // CPU_CLOCK sampling (Linux's hrtimer per event): the server's timer on `cpu` reports
  // `elapsed_ns` of it while thread `pid` ran, with the interrupted x86-64 pt_regs (168 bytes).
  // Each enabled sampling CPU_CLOCK event that follows the CPU and task takes the time off its
  // period (at least 10 us, as perf_swevent_start_hrtimer); at a period's end its perf_event
  // program runs on struct bpf_perf_event_data (regs, sample_period, addr 0) and, unless the
  // program returned 0 (or there is none), a sample goes into the event's ring. The number of
  // periods that ended.
  uint32_t report_cpu_clock(uint32_t cpu, int32_t pid, const void* regs, uint64_t elapsed_ns);
  // The shortest period of those events on `cpu` (0: none), for the server's timer.
  uint64_t cpu_clock_period(uint32_t cpu) const;
  // A CPU_CLOCK event joins the clock's list; a sampling one (sample_period) has the table
  // watch the microkernel's timer ticks (the kernel probe's arming error).
  [[nodiscard]] rt::Result<void> add_clock_event(PerfEventObject* event);
  void remove_clock_event(PerfEventObject* event);
  // A timer tick's kernel sample (trace_cpu_clock_tick: the CPU's Linux task, its ip and sp,
  // whether it ran or was served): report_cpu_clock's work with the time since the CPU's last
  // tick, the samples marked user or kernel.
  void tick_seen(const ProbeHit& hit);
  // Execs for perf events: an event awaiting_exec (enable_on_exec, perf_event_enable_on_exec)
  // is enabled when its task next execs, and an enabled event with attr.comm gets a
  // PERF_RECORD_COMM (COMM_EXEC) in its ring for an exec it follows (perf_event_comm). The table
  // watches sched_process_exec while any event is a watcher (ENOMEM, or the tracepoint's arming
  // error). unwatch_exec: the event goes.
  [[nodiscard]] rt::Result<void> watch_exec(PerfEventObject* event);
  void unwatch_exec(PerfEventObject* event);
  // Disarms the exec probe when nobody watches any more (not during its own hit).
  void close_idle_exec_probe();
  // A task execs (the current task, `hit` its sched_process_exec hit).
  void exec_seen(const ProbeHit& hit);
  // Forks for inherited events (attr.inherit on a task): the table watches the
  // sched:sched_process_fork and sched_process_exit tracepoints while any does (ENOMEM, or an
  // arming error); a fork by a task an event follows makes the child its heir, until it exits.
  // unwatch_forks: the event goes.
  [[nodiscard]] rt::Result<void> watch_forks(PerfEventObject* event);
  void unwatch_forks(PerfEventObject* event);
  // A task forks (`hit`: the tracepoint's record, the child's pid in it), or exits.
  void fork_seen(const ProbeHit& hit);
  void exit_seen(const ProbeHit& hit);
  // Software counters (task clock, page faults, context switches, CPU migrations...), Linux's
  // perf_swevent and task_clock PMUs: the table watches sched:sched_switch (the microkernel's
  // samples, with their times) or the POSIX server's trace_page_fault_user hook while any
  // counter counts from it (ENOMEM, or an arming error). unwatch_counter: the event goes.
  [[nodiscard]] rt::Result<void> watch_counter(PerfEventObject* event);
  void unwatch_counter(PerfEventObject* event);
  // A sched_switch (its record: prev_pid, prev_state, next_pid; the sample's CPU and time), or a
  // page fault of the current task (the hook's pt_regs: handled in rcx).
  void switch_seen(const ProbeHit& hit);
  // A task renamed by prctl (trace_task_rename's pt_regs): a COMM for the exec watchers with
  // attr.comm that follow it.
  void rename_seen(const ProbeHit& hit);
  // A task mapped an executable file (trace_vma_mapped's pt_regs): a PERF_RECORD_MMAP2 (or
  // MMAP) for the exec watchers with attr.mmap that follow it.
  void mmap_seen(const ProbeHit& hit);
  // A task started or ended (trace_task_forked / trace_task_exited's pt_regs: its ids and its
  // parent's, tid | tgid << 32): a PERF_RECORD_FORK or EXIT for the events that record task
  // events (comm, mmap, task) and follow the forking or ending task.
  void task_seen(const ProbeHit& hit, bool fork);
  void fault_seen(const ProbeHit& hit);
  // A sampling fault counter's sample (perf record -e page-faults).
  void fault_sample(PerfEventObject& event, const ProbeHit& hit, const PtRegs& regs);
  // A context switch counted by a sampling context-switches event: its program, then a sample
  // of the task leaving (`prev`).
  void switch_sample(PerfEventObject& event, const ProbeHit& hit, int32_t prev);
  // A hit of a probe the table watches (Probe::watches): the *_seen above it asks for.
  void watched_hit(const Probe& probe, const ProbeHit& hit);
  // The raw sched_process_exec probe the table watches execs on (enable_on_exec, COMM), 0 when
  // none: its hit goes before the exec's other probes, as Linux's perf_event_exec comes before
  // trace_sched_process_exec.
  uint32_t exec_watch_probe() const { return exec_probe_ != nullptr ? exec_probe_->number : 0; }

  // For the core: a probe for `spec` with one more user (arming it on its first), its release,
  // and attaching a program to it (EEXIST if it is there, E2BIG past 64 for perf events).
  [[nodiscard]] rt::Result<Probe*> open_probe(const ProbeSpec& spec, uint32_t context_size);
  void close_probe(Probe* probe);
  [[nodiscard]] rt::Result<void> attach(Probe* probe, ProgramObject* program, uint64_t cookie,
                                        uint32_t limit);
  void detach(Probe* probe, const ProgramObject* program);
  uint64_t next_event_id() { return ++event_ids_; }
  Probe* find(uint32_t number) const;
  uint32_t probe_count() const { return static_cast<uint32_t>(probes_.size()); }

  // The most context a program of any probe may read (PERF_MAX_TRACE_SIZE, a tracepoint's).
  static constexpr uint32_t kMaxReadableContext = 2048;
  // The context size a program of this kind of probe may read: hits with less are copied into
  // zeroes.
  static uint32_t readable_context(ProbeKind kind) {
    switch (kind) {
      case ProbeKind::kKprobe:
      case ProbeKind::kUprobe: return kPtRegsSize;
      case ProbeKind::kTracepoint: return kMaxReadableContext;  // PERF_MAX_TRACE_SIZE
      case ProbeKind::kRawTracepoint: return 12 * 8;            // MAX_BPF_FUNC_ARGS u64s
      case ProbeKind::kTracing: return 0;  // the verifier bounds reads by the argument count
    }
    return 0;
  }

 private:
  void sample_hit(PerfEventObject& event, const ProbeHit& hit);
  uint32_t report_short_hit(Probe& probe, const ProbeHit& hit);
  // report_hit's runs on `context` (trace_call_bpf), then the count of the events that follow
  // the hit's task and CPU (perf_tp_event).
  [[gnu::always_inline]] uint32_t run_and_count(Probe& probe, const ProbeHit& hit, void* context) {
    uint32_t result = 1;
    uint32_t run = 0;
    bool function = probe.kind == ProbeKind::kKprobe || probe.kind == ProbeKind::kTracing;
    RunContext run_context{0, function ? hit.function_ip : 0};
    for (const AttachedProgram& attached : probe.programs) {
      run_context.cookie = attached.cookie;
      result &= static_cast<uint32_t>(objects_.run(*attached.program, context, run_context));
      ++run;
    }
    if (probe.watches != 0) watched_hit(probe, hit);
    if (probe.kind == ProbeKind::kRawTracepoint || probe.kind == ProbeKind::kTracing ||
        (run != 0 && result == 0)) {
      return run;
    }
    // GAP: kprobe and uprobe PMU events do not sample (Linux writes a small entry with the
    // probed address), and tracepoint programs see the record's first 8 bytes unchanged (Linux
    // stores the pt_regs pointer there).
    for (PerfEventObject* event = probe.events; event != nullptr; event = event->next_on_probe) {
      if (!event->enabled) continue;
      if (!event->follows_task(hit.pid)) continue;
      if (!event->on_cpu(hit.cpu)) continue;
      ++event->count;
      if (probe.kind == ProbeKind::kTracepoint) sample_hit(*event, hit);
    }
    return run;
  }

  // A short hit's context padded with zeroes to what its programs may read. Programs cannot
  // write their context, so the zeroes stay: a hit copies its own bytes and zeroes only what
  // the previous one left beyond them (zeroing 2 KiB at every tracepoint hit cost opensnoop's
  // two syscall tracepoints about 14,000 instructions each). From the allocator, made at the
  // first short hit: a program may hand the context's address to a helper
  // (bpf_probe_read_kernel_str of a __data_loc string), and the server binary reads its own
  // stack and heap for such addresses, not its static data.
  uint8_t* padded_ = nullptr;
  uint32_t padded_used_ = 0;

  ObjectTable& objects_;
  ProbeHooks& hooks_;
  Vector<Probe*> probes_;
  // find's answers by number (direct-mapped; a slot is cleared when its probe closes): a hit
  // finds its probe without walking every armed one.
  static constexpr uint32_t kFoundSlots = 16;
  mutable Probe* found_[kFoundSlots] = {};
  uint32_t next_number_ = 1;
  PerfEventObject* clock_events_ = nullptr;
  // The tick probe while sampling CPU_CLOCK events are open, and each CPU's last tick time.
  struct ClockTick {
    uint32_t cpu;
    int32_t pid;  // what events follow
    uint32_t tid, tgid;
    const void* regs;
    uint64_t elapsed_ns;
    uint16_t misc;  // the samples' PERF_RECORD_MISC cpumode (0: as before, unknown)
  };
  uint32_t clock_samples(const ClockTick& tick);
  static constexpr uint32_t kMaxTickCpus = 64;
  Probe* tick_probe_ = nullptr;
  uint32_t sampling_clocks_ = 0;
  uint64_t last_tick_[kMaxTickCpus] = {};
  uint64_t event_ids_ = 0;
  Probe* exec_probe_ = nullptr;    // sched_process_exec while exec_watchers_ is not empty
  Probe* rename_probe_ = nullptr;  // and trace_task_rename
  Probe* mmap_probe_ = nullptr;    // and trace_vma_mapped
  Probe* forked_probe_ = nullptr;  // and trace_task_forked
  Probe* exited_probe_ = nullptr;  // and trace_task_exited
  void close_exec_probes();
  Vector<PerfEventObject*> exec_watchers_;
  // sched:sched_process_fork and sched_process_exit while fork_watchers_ is not empty.
  Probe* fork_probe_ = nullptr;
  Probe* exit_probe_ = nullptr;
  Vector<PerfEventObject*> fork_watchers_;
  void close_fork_probes();
  // sched:sched_switch and the page-fault hook while counters count from them.
  Probe* switch_probe_ = nullptr;
  Probe* fault_probe_ = nullptr;
  Vector<PerfEventObject*> switch_counters_;
  Vector<PerfEventObject*> fault_counters_;
  void close_counter_probe(bool switches);
};

// A software counter's count: the task clock's nanoseconds (with the intervals its tasks are
// on a CPU now, counted to `now`), otherwise what it counted.
uint64_t software_count(const PerfEventObject& event, uint64_t now);
// The task clock stops at `now` (disable) or starts again from it (reset): the open intervals
// are counted, or dropped, up to it.
void stop_task_clock(PerfEventObject& event, uint64_t now, bool count);

// perf_event_open(attr, pid, cpu, group_fd, flags) for `session`: the attr is read at
// `attr_address` through `memory` (its size first; E2BIG writes kPerfAttrSize back into it),
// strings (kprobe_func, uprobe_path) too. The new handle, or Linux 6.1's errno.
[[nodiscard]] rt::Result<int32_t> perf_event_open(Session& session, UserMemory& memory,
                                                  uint64_t attr_address, int32_t pid, int32_t cpu,
                                                  int32_t group_fd, uint64_t flags);
// ioctl(fd, command, argument) on a perf event handle: ENABLE, DISABLE, RESET, PERIOD, ID,
// SET_BPF, QUERY_BPF, PAUSE_OUTPUT; ENOTTY for others and for handles that are no perf event.
[[nodiscard]] rt::Result<int64_t> perf_event_ioctl(Session& session, UserMemory& memory, int32_t fd,
                                                   uint32_t command, uint64_t argument);
// read(fd, buffer, count): the count as the event's read_format lays it out; the bytes read.
[[nodiscard]] rt::Result<int64_t> perf_event_read(Session& session, UserMemory& memory, int32_t fd,
                                                  uint64_t buffer, uint64_t count);

// poll() of a perf event (perf_poll): EPOLLIN (1) once per due wakeup of its ring, EPOLLHUP
// (0x10) while it has no ring.
[[nodiscard]] rt::Result<uint32_t> perf_event_poll(Session& session, int32_t fd);

// mmap(length, MAP_SHARED, fd, page_offset * 4096) of a perf event: the ring's memory for the
// server binary to grant to the reader. The mapping holds the event until perf_event_munmap.
struct PerfEventMapping {
  PerfEventObject* event = nullptr;
  uint8_t* memory = nullptr;  // page-aligned, 1 + data_pages pages
  uint64_t size = 0;
  uint32_t data_pages = 0;
};
[[nodiscard]] rt::Result<PerfEventMapping> perf_event_mmap(Session& session, int32_t fd,
                                                           uint64_t length, uint64_t page_offset,
                                                           bool shared);
void perf_event_munmap(ObjectTable& objects, PerfEventObject* event);

// A perf event array's slot (nullptr when empty), and emptying the array (when its last handle
// goes or it dies), each slot dropping its reference on its event.
PerfEventObject* perf_event_in_slot(MapObject& map, uint32_t index);
void clear_perf_event_array(ObjectTable& objects, MapObject* map);

// For ObjectTable: the last reference to a perf event went.
void destroy_perf_event(ObjectTable& objects, PerfEventObject* event);
// event->prog and its cookie (perf_event_set_bpf_prog), and its release.
[[nodiscard]] rt::Result<void> set_event_program(PerfEventObject& event, ProgramObject* program,
                                                 uint64_t cookie);
void clear_event_program(PerfEventObject& event);

}  // namespace trace
