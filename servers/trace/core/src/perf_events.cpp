// SPDX-License-Identifier: MIT
// Perf events: perf_event_open's checks and PMUs, the probes behind them, hits, and the events'
// ends.
#include "trace/perf_events.hpp"

#include "commands.hpp"
#include "ebpf/program.hpp"
#include "rt/new.hpp"
#include "trace/perf_event_attr.hpp"

namespace trace {
namespace {

constexpr uint32_t kPerfMaxTraceSize = ProbeTable::kMaxReadableContext;  // a tracepoint's

// Whether a program type runs on this probe (perf_event_set_bpf_prog's type rule).
bool program_fits(const Probe& probe, ebpf::ProgramType type) {
  if (probe.kind == ProbeKind::kKprobe || probe.kind == ProbeKind::kUprobe)
    return type == ebpf::ProgramType::kKprobe;
  return type == ebpf::ProgramType::kTracepoint;
}

bool same_name(const char* a, const char* b) {
  for (uint32_t i = 0;; ++i) {
    if (a[i] != b[i]) return false;
    if (a[i] == 0) return true;
  }
}

}  // namespace

// ProbeTable.

ProbeTable::ProbeTable(ObjectTable& objects, ProbeHooks& hooks)
    : objects_(objects),
      hooks_(hooks),
      probes_(objects.allocator()),
      exec_watchers_(objects.allocator()),
      fork_watchers_(objects.allocator()),
      switch_counters_(objects.allocator()),
      fault_counters_(objects.allocator()) {}

ProbeTable::~ProbeTable() {
  for (Probe* probe : probes_) {
    hooks_.disarm(probe->number);
    probe->~Probe();
    objects_.allocator().deallocate(probe, sizeof(Probe));
  }
  if (padded_ != nullptr) objects_.allocator().deallocate(padded_, kMaxReadableContext);
}

Probe* ProbeTable::find(uint32_t number) const {
  Probe*& found = found_[number % kFoundSlots];
  if (found != nullptr && found->number == number) return found;
  for (Probe* probe : probes_) {
    if (probe->number == number) {
      found = probe;
      return probe;
    }
  }
  return nullptr;
}

rt::Result<Probe*> ProbeTable::open_probe(const ProbeSpec& spec, uint32_t context_size) {
  // Perf events on one tracepoint share its trace_event_call; links on one raw tracepoint
  // share the tracepoint. Kprobes and uprobes opened through the PMUs are each their own.
  for (Probe* probe : probes_) {
    if (probe->kind != spec.kind) continue;
    if ((spec.kind == ProbeKind::kTracepoint && probe->tracepoint_id == spec.tracepoint_id) ||
        (spec.kind == ProbeKind::kRawTracepoint && same_name(probe->name, spec.name))) {
      ++probe->users;
      return probe;
    }
  }
  rt::Allocator& allocator = objects_.allocator();
  void* place = allocator.allocate(sizeof(Probe), alignof(Probe));
  if (place == nullptr) return rt::err(rt::kENOMEM);
  auto* probe = new (place) Probe(allocator);
  probe->number = next_number_;
  probe->kind = spec.kind;
  probe->tracepoint_id = spec.tracepoint_id;
  probe->context_size = context_size;
  probe->users = 1;
  const char* name =
      spec.kind == ProbeKind::kRawTracepoint ? spec.name
      : spec.kind == ProbeKind::kTracepoint  ? hooks_.tracepoint_name(spec.tracepoint_id)
      : spec.kind == ProbeKind::kKprobe || spec.kind == ProbeKind::kTracing ? spec.symbol
                                                                            : spec.path;
  for (uint32_t i = 0; name != nullptr && i + 1 < sizeof(probe->name) && name[i] != 0; ++i)
    probe->name[i] = name[i];
  probe->offset = spec.offset;
  probe->address = spec.address;
  probe->is_return = spec.is_return;
  auto fail = [&](rt::Error error) -> rt::Result<Probe*> {
    probe->~Probe();
    allocator.deallocate(probe, sizeof(Probe));
    return error;
  };
  if (!probes_.push_back(static_cast<Probe*>(probe))) return fail(rt::err(rt::kENOMEM));
  if (auto armed = hooks_.arm(probe->number, spec); !armed.ok()) {
    probes_.erase(probes_.size() - 1);
    return fail(armed.error());
  }
  ++next_number_;
  return probe;
}

void ProbeTable::close_probe(Probe* probe) {
  if (--probe->users != 0) return;
  hooks_.disarm(probe->number);
  if (found_[probe->number % kFoundSlots] == probe) found_[probe->number % kFoundSlots] = nullptr;
  for (size_t i = 0; i < probes_.size(); ++i) {
    if (probes_[i] == probe) {
      probes_.erase(i);
      break;
    }
  }
  probe->~Probe();
  objects_.allocator().deallocate(probe, sizeof(Probe));
}

rt::Result<void> ProbeTable::attach(Probe* probe, ProgramObject* program, uint64_t cookie,
                                    uint32_t limit) {
  for (const AttachedProgram& attached : probe->programs) {
    if (attached.program == program) return rt::err(rt::kEEXIST);
  }
  if (probe->programs.size() >= limit) return rt::err(rt::kE2BIG);
  if (!probe->programs.push_back(AttachedProgram{program, cookie})) return rt::err(rt::kENOMEM);
  return {};
}

void ProbeTable::detach(Probe* probe, const ProgramObject* program) {
  for (size_t i = 0; i < probe->programs.size(); ++i) {
    if (probe->programs[i].program == program) {
      probe->programs.erase(i);
      return;
    }
  }
}

uint32_t ProbeTable::report_hit(uint32_t number, const ProbeHit& hit) {
  Probe* probe = find(number);
  return probe != nullptr ? report_hit(*probe, hit) : 0;
}

// A hit shorter than its programs may read: its bytes, then zeroes.
uint32_t ProbeTable::report_short_hit(Probe& probe, const ProbeHit& hit) {
  uint32_t readable = readable_context(probe.kind);
  uint8_t fallback[kPerfMaxTraceSize];  // without memory for padded_: zeroed at every hit
  void* context = fallback;
  if (padded_ == nullptr) {
    padded_ = static_cast<uint8_t*>(objects_.allocator().allocate(kMaxReadableContext, 16));
    if (padded_ != nullptr) __builtin_memset(padded_, 0, kMaxReadableContext);
    padded_used_ = 0;
  }
  if (padded_ != nullptr) {
    __builtin_memcpy(padded_, hit.context, hit.size);
    for (uint32_t i = hit.size; i < padded_used_; ++i) padded_[i] = 0;
    padded_used_ = hit.size;
    context = padded_;
  } else {
    for (uint32_t i = 0; i < readable; ++i)
      fallback[i] = i < hit.size ? static_cast<const uint8_t*>(hit.context)[i] : 0;
  }
  return run_and_count(probe, hit, context);
}

namespace {

uint32_t max_stack(const PerfEventAttr& attr) {
  uint32_t most = attr.sample_max_stack != 0 ? attr.sample_max_stack : kPerfEventMaxStack;
  return most < kCallchainCapacity ? most : kCallchainCapacity;
}

// One context: its marker, then what `walk` stores (at most `room` ips); nothing when it stores
// none. Contexts do not count against sample_max_stack, as Linux's
// perf_callchain_store_context.
template <typename Walk>
void add_context(uint64_t marker, uint32_t most, Callchain& chain, uint32_t& length, Walk walk) {
  if (length + 1 >= kCallchainCapacity) return;
  uint32_t ips = 0;
  for (uint32_t i = 0; i < length; ++i) ips += chain[i] < kPerfContextMax ? 1 : 0;
  if (ips >= most) return;
  uint32_t room = most - ips;
  if (room > kCallchainCapacity - length - 1) room = kCallchainCapacity - length - 1;
  long stored = walk(&chain[length + 1], room);
  if (stored <= 0) return;
  chain[length] = marker;
  length += 1 + static_cast<uint32_t>(stored);
}

}  // namespace

bool samples_user_registers(const Probe& probe) {
  if (probe.kind == ProbeKind::kUprobe) return true;
  if (probe.kind != ProbeKind::kTracepoint) return false;
  auto starts = [&](const char* prefix) {
    size_t n = 0;
    while (prefix[n] != 0 && probe.name[n] == prefix[n]) ++n;
    return prefix[n] == 0;
  };
  return starts("sys_enter_") || starts("sys_exit_");
}

uint32_t hit_callchain(const PerfEventAttr& attr, ebpf::Environment& environment, bool in_kernel,
                       Callchain& chain) {
  uint32_t length = 0, most = max_stack(attr);
  if (in_kernel && !attr.has(kPerfAttrExcludeCallchainKernel)) {
    add_context(kPerfContextKernel, most, chain, length, [&](uint64_t* ips, uint32_t room) {
      return environment.capture_stack(false, 0, ips, room);
    });
  }
  if (!attr.has(kPerfAttrExcludeCallchainUser)) {
    add_context(kPerfContextUser, most, chain, length, [&](uint64_t* ips, uint32_t room) {
      return environment.capture_stack(true, 0, ips, room);
    });
  }
  return length;
}

uint32_t ip_callchain(const PerfEventAttr& attr, uint64_t ip, bool in_kernel, Callchain& chain) {
  uint32_t length = 0;
  bool excluded =
      attr.has(in_kernel ? kPerfAttrExcludeCallchainKernel : kPerfAttrExcludeCallchainUser);
  if (excluded) return 0;
  add_context(in_kernel ? kPerfContextKernel : kPerfContextUser, max_stack(attr), chain, length,
              [&](uint64_t* ips, uint32_t) {
                ips[0] = ip;
                return 1l;
              });
  return length;
}

// perf_swevent_event for one hit: a sampling event overflows each `sample_period` hits (each
// hit with a period of 1, or PERF_SAMPLE_PERIOD; a frequency is taken as a period of 1).
void ProbeTable::sample_hit(PerfEventObject& event, const ProbeHit& hit) {
  uint64_t period = event.attr.sample_period;
  PerfEventRing* ring = event.output_ring();
  if (period == 0 || ring == nullptr) return;
  bool every_hit = period == 1 || event.attr.has(kPerfAttrFreq) ||
                   (event.attr.sample_type & kPerfSamplePeriod) != 0;
  if (!every_hit) {
    if (event.period_left == 0) event.period_left = period;
    if (--event.period_left != 0) return;
  }
  ebpf::Environment& environment = objects_.environment();
  PerfSampleFields fields =
      event.record_fields(static_cast<uint32_t>(environment.current_pid_tgid() >> 32),
                          static_cast<uint32_t>(hit.pid), environment.monotonic_ns(), hit.cpu);
  fields.period =
      (event.attr.sample_type & kPerfSamplePeriod) && !event.attr.has(kPerfAttrFreq) ? 1 : period;
  // Uprobes hit in user mode, and Linux's syscalls:sys_enter_*/sys_exit_* samples carry the
  // system call's user registers (perf_syscall_enter); every other probe is in the POSIX server
  // or the microkernel. The sample's ip and cpumode are those registers': the first frame of
  // the stack they start (GAP: 0 where there is none, as at microkernel samples).
  bool in_kernel = event.probe == nullptr || !samples_user_registers(*event.probe);
  fields.misc = in_kernel ? kPerfRecordMiscKernel : kPerfRecordMiscUser;
  if ((event.attr.sample_type & kPerfSampleIp) &&
      environment.capture_stack(!in_kernel, 0, &fields.ip, 1) != 1) {
    fields.ip = 0;
  }
  Callchain chain;
  if (event.attr.sample_type & kPerfSampleCallchain) {
    fields.callchain_length = hit_callchain(event.attr, environment, in_kernel, chain);
    fields.callchain = chain;
  }
  (void)ring->output_sample(fields, hit.context, hit.size);
}

// Programs on events.

rt::Result<void> set_event_program(PerfEventObject& event, ProgramObject* program,
                                   uint64_t cookie) {
  if (event.probe == nullptr) {
    // perf_event_set_bpf_handler: software events take perf_event programs.
    if (event.program != nullptr) return rt::err(rt::kEEXIST);
    if (program->type != ebpf::ProgramType::kPerfEvent) return rt::err(rt::kEINVAL);
  } else {
    if (!program_fits(*event.probe, program->type)) return rt::err(rt::kEINVAL);
    // GAP: Linux refuses (EACCES) a tracepoint program reading past the record
    // (max_ctx_offset); the engine does not record how far a program reads.
    if (event.program != nullptr) return rt::err(rt::kEEXIST);
    ProbeTable* probes = event.table->probes();
    TRY(probes->attach(event.probe, program, cookie, kBpfTraceMaxPrograms));
  }
  event.program = program;
  event.cookie = cookie;
  event.table->acquire(program);
  return {};
}

void clear_event_program(PerfEventObject& event) {
  if (event.program == nullptr) return;
  if (event.probe != nullptr) event.table->probes()->detach(event.probe, event.program);
  ProgramObject* program = event.program;
  event.program = nullptr;
  event.cookie = 0;
  event.table->release(program);
}

// bpf_perf_event_output's checks on the event, then perf_event_output.
long PerfEventObject::output_from(uint32_t current_cpu, const void* data, uint64_t size) {
  if (attr.type != kPerfTypeSoftware || attr.config != kPerfCountSwBpfOutput) return -rt::kEINVAL;
  // event->oncpu: an enabled CPU-bound event is on its CPU; a task-bound one is scheduled in
  // only while its task runs, on that task's CPU.
  ebpf::Environment& environment = table->environment();
  bool on_this_cpu = enabled && (cpu < 0 || static_cast<uint32_t>(cpu) == current_cpu);
  if (pid > 0 && static_cast<int32_t>(environment.current_pid_tgid() & 0x7fffffff) != pid)
    on_this_cpu = false;
  if (!on_this_cpu) return -rt::kEOPNOTSUPP;
  if (ring == nullptr) return -rt::kENOSPC;  // no buffer mapped: perf_output_begin fails
  if (size > 0xffff) return -rt::kE2BIG;
  uint64_t pid_tgid = environment.current_pid_tgid();
  PerfSampleFields fields =
      record_fields(static_cast<uint32_t>(pid_tgid >> 32), static_cast<uint32_t>(pid_tgid),
                    environment.monotonic_ns(), current_cpu);
  fields.period = attr.sample_period;
  return ring->output_sample(fields, data, static_cast<uint32_t>(size));
}

namespace {
void recount_follow(Probe& probe) {
  uint8_t follow = 0;
  for (const PerfEventObject* event = probe.events; event != nullptr;
       event = event->next_on_probe) {
    if (event->pid > 0) follow |= Probe::kFollowsTask;
    if (event->cpu >= 0) follow |= Probe::kFollowsCpu;
  }
  probe.events_follow = follow;
}
}  // namespace

void link_event(Probe& probe, PerfEventObject* event) {
  event->next_on_probe = probe.events;
  probe.events = event;
  recount_follow(probe);
}

void unlink_event(Probe& probe, PerfEventObject* event) {
  PerfEventObject** link = &probe.events;
  while (*link != nullptr && *link != event) link = &(*link)->next_on_probe;
  if (*link == event) *link = event->next_on_probe;
  recount_follow(probe);
}

void destroy_perf_event(ObjectTable& objects, PerfEventObject* event) {
  if (event->watches_forks) objects.probes()->unwatch_forks(event);
  if (event->watches_counts) objects.probes()->unwatch_counter(event);
  // The exec probe goes with its last watcher (an exec that ended the watch left it armed).
  if (event->watches_exec) {
    objects.probes()->unwatch_exec(event);
  } else {
    objects.probes()->close_idle_exec_probe();
  }
  clear_event_program(*event);
  if (event->attr.type == kPerfTypeSoftware &&
      (event->attr.config == kPerfCountSwCpuClock || event->attr.config == kPerfCountSwTaskClock)) {
    objects.probes()->remove_clock_event(event);
  }
  if (event->probe != nullptr) {
    unlink_event(*event->probe, event);
    objects.probes()->close_probe(event->probe);
  }
  if (event->ring != nullptr) event->ring->destroy(objects.allocator());
  if (event->output != nullptr) objects.release(event->output);
  event->~PerfEventObject();
  objects.allocator().deallocate(event, sizeof(PerfEventObject));
}

}  // namespace trace

namespace trace {
namespace {

// sched:sched_process_fork and sched_process_exit: Linux's fixed ids (the fork's record keeps
// the child's pid at 44; the exit's task is the hit's).
constexpr uint64_t kSchedProcessForkId = 313;
constexpr uint64_t kSchedProcessExitId = 316;
constexpr uint32_t kForkChildPidOffset = 44;

// Whether a task's side-band record (COMM, MMAP) of task `tid` on `cpu` goes to `event`:
// perf_iterate_sb's event_filter_match (its CPU, or any) for an event that follows the task, or
// one on every task.
bool records_for(const PerfEventObject& event, int32_t tid, uint32_t cpu) {
  if (!event.on_cpu(cpu)) return false;
  return event.pid == -1 || (event.pid > 0 && event.follows_task(tid));
}

}  // namespace

rt::Result<void> ProbeTable::watch_exec(PerfEventObject* event) {
  if (exec_probe_ == nullptr) {
    // The raw tracepoint's hits carry the exec'ing task (task_struct, old pid, binprm).
    ProbeSpec spec;
    spec.kind = ProbeKind::kRawTracepoint;
    spec.name = "sched_process_exec";
    exec_probe_ = TRY(open_probe(spec, 3 * sizeof(uint64_t)));
    exec_probe_->watches |= Probe::kWatchesExec;
    // The POSIX server's side-band hooks (kprobes; their hits find out their CPU, as the
    // records go to the events on it): renames other than an exec's are COMMs,
    // trace_task_rename(pid, oldcomm, newcomm, oom_score_adj, task, exec); executable mappings
    // MMAPs, trace_vma_mapped(ids, address, length, pgoff, prot_flags, path, inode); tasks
    // starting and ending FORKs and EXITs, trace_task_forked/exited(ids, parent_ids).
    struct Hook {
      const char* symbol;
      Probe** probe;
      uint16_t watches;
    };
    const Hook hooks[4] = {{"trace_task_rename", &rename_probe_, Probe::kWatchesRenames},
                           {"trace_vma_mapped", &mmap_probe_, Probe::kWatchesMmaps},
                           {"trace_task_forked", &forked_probe_, Probe::kWatchesTasks},
                           {"trace_task_exited", &exited_probe_, Probe::kWatchesTasks}};
    for (const Hook& hook : hooks) {
      ProbeSpec spec_of_hook;
      spec_of_hook.kind = ProbeKind::kKprobe;
      spec_of_hook.symbol = hook.symbol;
      auto opened = open_probe(spec_of_hook, kPtRegsSize);
      if (!opened.ok()) {
        close_exec_probes();
        return opened.error();
      }
      *hook.probe = opened.value();
      (*hook.probe)->watches |= hook.watches;
      (*hook.probe)->events_follow = Probe::kFollowsTask | Probe::kFollowsCpu;
    }
  }
  if (!exec_watchers_.push_back(static_cast<PerfEventObject*>(event))) {
    if (exec_watchers_.size() == 0) close_exec_probes();
    return rt::err(rt::kENOMEM);
  }
  event->watches_exec = true;
  return {};
}

void ProbeTable::unwatch_exec(PerfEventObject* event) {
  event->watches_exec = false;
  event->awaiting_exec = false;
  for (size_t i = 0; i < exec_watchers_.size(); ++i) {
    if (exec_watchers_[i] == event) {
      exec_watchers_.erase(i);
      break;
    }
  }
  close_idle_exec_probe();
}

void ProbeTable::close_idle_exec_probe() {
  if (exec_probe_ == nullptr || exec_watchers_.size() != 0) return;
  close_exec_probes();
}

void ProbeTable::close_exec_probes() {
  Probe** const probes[5] = {&exec_probe_, &rename_probe_, &mmap_probe_, &forked_probe_,
                             &exited_probe_};
  for (Probe** probe : probes) {
    if (*probe == nullptr) continue;
    (*probe)->watches &= static_cast<uint16_t>(~(Probe::kWatchesExec | Probe::kWatchesRenames |
                                                 Probe::kWatchesMmaps | Probe::kWatchesTasks));
    close_probe(*probe);
    *probe = nullptr;
  }
}

void ProbeTable::rename_seen(const ProbeHit& hit) {
  // trace_task_rename: di the pid, dx the new name, r9 whether an exec renames (exec_seen's
  // COMM).
  PtRegs regs;
  if (!registers_of(hit, regs) || static_cast<uint32_t>(regs.r9) != 0) return;
  uint64_t pid = regs.di, name = regs.dx;
  ebpf::Environment& environment = objects_.environment();
  char comm[16] = {};
  if (environment.read_kernel(comm, name, sizeof(comm)) != 0) return;
  comm[15] = 0;
  auto tid = static_cast<int32_t>(pid);
  uint64_t now = environment.monotonic_ns();
  for (PerfEventObject* event : exec_watchers_) {
    // perf_event_comm(task, false): the events that follow the task and record COMMs.
    bool follows = records_for(*event, tid, hit.cpu);
    if (!follows || !event->attr.has(kPerfAttrComm) || !event->enabled ||
        event->output_ring() == nullptr) {
      continue;
    }
    PerfSampleFields fields =
        event->record_fields(static_cast<uint32_t>(environment.current_pid_tgid() >> 32),
                             static_cast<uint32_t>(tid), now, hit.cpu);
    (void)event->output_ring()->output_comm(fields, comm, false);
  }
}

void ProbeTable::mmap_seen(const ProbeHit& hit) {
  // trace_vma_mapped: di ids (tid | pid << 32), si the address, dx the length, cx the file
  // offset, r8 prot | MAP_* << 8 | device << 32, r9 the path; the inode number above the
  // return address.
  PtRegs regs;
  if (!registers_of(hit, regs)) return;
  uint64_t ids = regs.di, prot_flags = regs.r8, inode = 0;
  ebpf::Environment& environment = objects_.environment();
  char path[256];
  if (environment.read_kernel(&inode, regs.sp + 8, sizeof(inode)) != 0) return;
  long length = environment.read_string(false, path, regs.r9, sizeof(path));
  if (length <= 0) return;
  PerfMapping mapping;
  mapping.address = regs.si;
  mapping.length = regs.dx;
  mapping.pgoff = regs.cx;
  mapping.prot = static_cast<uint32_t>(prot_flags & 0xff);
  mapping.flags = static_cast<uint32_t>((prot_flags >> 8) & 0xffffff);
  mapping.major = static_cast<uint32_t>((prot_flags >> 40) & 0xff);
  mapping.minor = static_cast<uint32_t>((prot_flags >> 32) & 0xff);
  mapping.inode = inode;
  mapping.path = path;
  auto tid = static_cast<int32_t>(static_cast<uint32_t>(ids));
  uint64_t now = environment.monotonic_ns();
  for (PerfEventObject* event : exec_watchers_) {
    // perf_event_mmap: the events that follow the task and record MMAPs.
    bool follows = records_for(*event, tid, hit.cpu);
    bool wants = event->attr.has(kPerfAttrMmap) || event->attr.has(kPerfAttrMmap2);
    if (!follows || !wants || !event->enabled || event->output_ring() == nullptr) continue;
    PerfSampleFields fields = event->record_fields(static_cast<uint32_t>(ids >> 32),
                                                   static_cast<uint32_t>(tid), now, hit.cpu);
    (void)event->output_ring()->output_mmap(fields, mapping, event->attr.has(kPerfAttrMmap2));
  }
}

void ProbeTable::task_seen(const ProbeHit& hit, bool fork) {
  PtRegs regs;  // di the task's ids, si its parent's
  if (!registers_of(hit, regs)) return;
  uint64_t ids = regs.di, parent = regs.si;
  // perf_event_task_output: a fork names the forking task as the parent, an exit its real
  // parent's group twice.
  PerfEventRing::TaskIds task{static_cast<uint32_t>(ids >> 32), static_cast<uint32_t>(parent >> 32),
                              static_cast<uint32_t>(ids), static_cast<uint32_t>(parent)};
  if (!fork) task.ptid = task.ppid;
  // The records go to the events of the current task: the forking one, or the one ending.
  uint64_t current = fork ? parent : ids;
  auto current_tid = static_cast<int32_t>(static_cast<uint32_t>(current));
  uint64_t now = objects_.environment().monotonic_ns();
  for (PerfEventObject* event : exec_watchers_) {
    if (!records_for(*event, current_tid, hit.cpu) || !event->records_task_events() ||
        !event->enabled || event->output_ring() == nullptr) {
      continue;
    }
    PerfSampleFields fields = event->record_fields(static_cast<uint32_t>(current >> 32),
                                                   static_cast<uint32_t>(current), now, hit.cpu);
    (void)event->output_ring()->output_task(fields, task, fork);
  }
}

void ProbeTable::exec_seen(const ProbeHit& hit) {
  ebpf::Environment& environment = objects_.environment();
  uint64_t now = environment.monotonic_ns();
  char comm[16] = {};
  bool named = false;
  for (size_t i = 0; i < exec_watchers_.size();) {
    PerfEventObject* event = exec_watchers_[i];
    if (event->awaiting_exec && event->pid == hit.pid) {
      event->awaiting_exec = false;
      if (!event->enabled) {
        event->enabled = true;
        event->enabled_since = now;
      }
    }
    bool follows_exec = records_for(*event, hit.pid, hit.cpu);
    if (event->attr.has(kPerfAttrComm) && event->enabled && event->output_ring() != nullptr &&
        follows_exec) {
      // The new name, which the POSIX server published before the tracepoint.
      if (!named) named = environment.current_comm(comm, sizeof(comm)) == 0;
      PerfSampleFields fields =
          event->record_fields(static_cast<uint32_t>(environment.current_pid_tgid() >> 32),
                               static_cast<uint32_t>(hit.pid), now, hit.cpu);
      (void)event->output_ring()->output_comm(fields, comm, true);
    }
    if (!event->awaiting_exec && !event->records_task_events()) {
      // Nothing more to watch for; the probe stays until an event goes (it is being hit now:
      // close_idle_exec_probe).
      event->watches_exec = false;
      exec_watchers_.erase(i);
      continue;
    }
    ++i;
  }
}

rt::Result<void> ProbeTable::watch_forks(PerfEventObject* event) {
  if (fork_probe_ == nullptr) {
    const uint64_t ids[2] = {kSchedProcessForkId, kSchedProcessExitId};
    Probe** const probes[2] = {&fork_probe_, &exit_probe_};
    for (int i = 0; i < 2; ++i) {
      ProbeSpec spec;
      spec.kind = ProbeKind::kTracepoint;
      spec.tracepoint_id = ids[i];
      auto size = hooks_.tracepoint_record_size(ids[i]);
      auto probe = size.ok() ? open_probe(spec, size.value()) : rt::Result<Probe*>(size.error());
      if (!probe.ok()) {
        close_fork_probes();
        return probe.error();
      }
      *probes[i] = probe.value();
    }
    fork_probe_->watches |= Probe::kWatchesForks;
    exit_probe_->watches |= Probe::kWatchesExits;
  }
  if (!fork_watchers_.push_back(static_cast<PerfEventObject*>(event))) {
    if (fork_watchers_.size() == 0) close_fork_probes();
    return rt::err(rt::kENOMEM);
  }
  event->watches_forks = true;
  return {};
}

void ProbeTable::close_fork_probes() {
  Probe** const probes[2] = {&fork_probe_, &exit_probe_};
  for (Probe** probe : probes) {
    if (*probe == nullptr) continue;
    (*probe)->watches &= static_cast<uint16_t>(~(Probe::kWatchesForks | Probe::kWatchesExits));
    close_probe(*probe);
    *probe = nullptr;
  }
}

void ProbeTable::unwatch_forks(PerfEventObject* event) {
  event->watches_forks = false;
  for (size_t i = 0; i < fork_watchers_.size(); ++i) {
    if (fork_watchers_[i] == event) {
      fork_watchers_.erase(i);
      break;
    }
  }
  if (fork_watchers_.size() == 0) close_fork_probes();
}

void ProbeTable::fork_seen(const ProbeHit& hit) {
  if (hit.size < kForkChildPidOffset + sizeof(int32_t)) return;
  int32_t child;
  __builtin_memcpy(&child, static_cast<const uint8_t*>(hit.context) + kForkChildPidOffset,
                   sizeof(child));
  for (size_t i = 0; i < fork_watchers_.size(); ++i) {
    PerfEventObject* event = fork_watchers_[i];
    // GAP: an event that cannot grow its list of heirs (no memory) misses the child's hits.
    if (event->follows_task(hit.pid) && !event->follows_task(child))
      (void)event->heirs.push_back(static_cast<int32_t&&>(child));
  }
}

void ProbeTable::watched_hit(const Probe& probe, const ProbeHit& hit) {
  if ((probe.watches & Probe::kWatchesExec) != 0) exec_seen(hit);
  if ((probe.watches & Probe::kWatchesForks) != 0) fork_seen(hit);
  if ((probe.watches & Probe::kWatchesExits) != 0) exit_seen(hit);
  if ((probe.watches & Probe::kWatchesSwitches) != 0) switch_seen(hit);
  if ((probe.watches & Probe::kWatchesFaults) != 0) fault_seen(hit);
  if ((probe.watches & Probe::kWatchesRenames) != 0) rename_seen(hit);
  if ((probe.watches & Probe::kWatchesTicks) != 0) tick_seen(hit);
  if ((probe.watches & Probe::kWatchesMmaps) != 0) mmap_seen(hit);
  if ((probe.watches & Probe::kWatchesTasks) != 0) task_seen(hit, &probe == forked_probe_);
}

void ProbeTable::exit_seen(const ProbeHit& hit) {
  for (size_t i = 0; i < fork_watchers_.size(); ++i) {
    Vector<int32_t>& heirs = fork_watchers_[i]->heirs;
    for (size_t j = 0; j < heirs.size(); ++j) {
      if (heirs[j] != hit.pid) continue;
      heirs.erase(j);
      break;
    }
  }
}

}  // namespace trace
