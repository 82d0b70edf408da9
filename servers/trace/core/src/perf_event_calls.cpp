// SPDX-License-Identifier: MIT
// perf_event_open(2) and the calls on a perf event fd: ioctl, read, mmap (Linux 6.1's rules).
#include "commands.hpp"
#include "rt/new.hpp"
#include "trace/perf_event_attr.hpp"
#include "trace/perf_events.hpp"

namespace trace {
namespace {

constexpr uint64_t kMaxSampleRate = 100000;  // sysctl_perf_event_sample_rate's default
constexpr uint32_t kKsymNameLen = 512;       // KSYM_NAME_LEN in 6.1
constexpr uint32_t kPathMax = 4096;          // PATH_MAX with its NUL
constexpr uint64_t kExtendedRegisters = ~((1ull << 32) - 1);  // the XMM registers

// The clocks perf_event_set_clock accepts: REALTIME, MONOTONIC, MONOTONIC_RAW, BOOTTIME, TAI.
bool known_clock(int32_t clockid) {
  return clockid == 0 || clockid == 1 || clockid == 4 || clockid == 7 || clockid == 11;
}

// What the PMU init of the event's type decided: the probe to arm (none for software events).
struct PmuChoice {
  bool probe = false;
  ProbeSpec spec;
  uint32_t context_size = 0;
  char text[kPathMax];  // the kprobe function or the uprobe path, copied from the caller
};

// perf_init_event: the PMU of attr.type; ENOENT when none takes it.
rt::Result<void> init_pmu(ProbeTable& probes, UserMemory& memory, const PerfEventAttr& attr,
                          PmuChoice& choice) {
  bool branch_stack = (attr.sample_type & kPerfSampleBranchStack) != 0;
  switch (attr.type) {
    case kPerfTypeSoftware:
      // cpu_clock_event_init, task_clock_event_init and perf_swevent_init: every id below
      // PERF_COUNT_SW_MAX. CPU_CLOCK samples on the server's timer
      // (ProbeTable::report_cpu_clock); the counters count from the events they watch
      // (task_counters.cpp). GAP: the counters (task clock, faults, switches) do not sample.
      if (attr.config >= kPerfCountSwMax) return rt::err(rt::kENOENT);
      if (branch_stack) return rt::err(rt::kEOPNOTSUPP);
      return {};
    case kPerfTypeTracepoint: {
      if (branch_stack) return rt::err(rt::kEOPNOTSUPP);
      // perf_trace_init: EINVAL when no event has the id.
      choice.context_size = TRY(probes.hooks().tracepoint_record_size(attr.config));
      choice.probe = true;
      choice.spec.kind = ProbeKind::kTracepoint;
      choice.spec.tracepoint_id = attr.config;
      return {};
    }
    case kPerfTypeKprobe: {
      if (branch_stack) return rt::err(rt::kEOPNOTSUPP);
      choice.probe = true;
      choice.spec.kind = ProbeKind::kKprobe;
      choice.spec.is_return = (attr.config & kPerfProbeConfigIsRetprobe) != 0;
      // perf_kprobe_init: kprobe_func (config1) names the function, kprobe_addr and
      // probe_offset share config2: the offset from the function, or the address.
      if (attr.config1 != 0) {
        uint64_t length = TRY(memory.read_string(choice.text, attr.config1, kKsymNameLen));
        if (length == kKsymNameLen) return rt::err(rt::kE2BIG);
        if (length != 0) choice.spec.symbol = choice.text;
      }
      if (choice.spec.symbol != nullptr) {
        choice.spec.offset = attr.config2;
      } else {
        choice.spec.address = attr.config2;
        // _kprobe_addr: neither a symbol nor an address.
        if (attr.config2 == 0) return rt::err(rt::kEINVAL);
      }
      return {};
    }
    case kPerfTypeUprobe: {
      if (branch_stack) return rt::err(rt::kEOPNOTSUPP);
      choice.probe = true;
      choice.spec.kind = ProbeKind::kUprobe;
      choice.spec.is_return = (attr.config & kPerfProbeConfigIsRetprobe) != 0;
      choice.spec.ref_ctr_offset = attr.config >> kPerfUprobeRefCtrOffsetShift;
      // perf_uprobe_init: strndup_user(uprobe_path, PATH_MAX), a longer path E2BIG.
      if (attr.config1 == 0) return rt::err(rt::kEINVAL);
      uint64_t length = TRY(memory.read_string(choice.text, attr.config1, kPathMax));
      if (length == kPathMax) return rt::err(rt::kE2BIG);
      if (length == 0) return rt::err(rt::kEINVAL);
      choice.spec.path = choice.text;
      choice.spec.offset = attr.config2;
      return {};
    }
    default:
      // GAP: no hardware, cache, raw or breakpoint PMU (a guest without a PMU answers the
      // same ENOENT for the hardware ones).
      return rt::err(rt::kENOENT);
  }
}

rt::Result<PerfEventObject*> perf_event_of(Session& session, int32_t fd, int errno_for_others) {
  Handle handle = TRY(session.lookup(fd));
  if (handle.object->kind != ObjectKind::kPerfEvent) return rt::err(errno_for_others);
  return static_cast<PerfEventObject*>(handle.object);
}

void enable(PerfEventObject& event, uint64_t now) {
  if (event.enabled) return;
  event.enabled = true;
  event.enabled_since = now;
}

void disable(PerfEventObject& event, uint64_t now) {
  if (!event.enabled) return;
  stop_task_clock(event, now, true);
  event.enabled = false;
  event.enabled_ns += now - event.enabled_since;
}

uint64_t time_enabled(const PerfEventObject& event, uint64_t now) {
  return event.enabled_ns + (event.enabled ? now - event.enabled_since : 0);
}

// The count: hits for probes, nanoseconds enabled for the CPU clock (and a CPU's task clock),
// a software counter's, nothing for BPF output.
uint64_t event_count(const PerfEventObject& event, uint64_t now) {
  if (event.attr.type != kPerfTypeSoftware) return event.count;
  if (event.attr.config == kPerfCountSwCpuClock ||
      (event.attr.config == kPerfCountSwTaskClock && event.pid == -1)) {
    return time_enabled(event, now);
  }
  return software_count(event, now);
}

// perf_event_query_prog_array.
rt::Result<int64_t> query_bpf(Session& session, UserMemory& memory, PerfEventObject& event,
                              uint64_t argument) {
  if (!session.privileged()) return rt::err(rt::kEPERM);
  if (event.attr.type != kPerfTypeTracepoint) return rt::err(rt::kEINVAL);
  PerfEventQueryBpf query;
  TRY(memory.read(&query, argument, sizeof(query)));
  if (query.ids_len > kBpfTraceMaxPrograms) return rt::err(rt::kE2BIG);
  uint32_t ids[kBpfTraceMaxPrograms] = {};
  const Vector<AttachedProgram>& programs = event.probe->programs;
  uint32_t count = static_cast<uint32_t>(programs.size());
  for (uint32_t i = 0; i < count && i < query.ids_len; ++i) ids[i] = programs[i].program->id;
  TRY(memory.write(argument + offsetof(PerfEventQueryBpf, prog_cnt), &count, sizeof(count)));
  TRY(memory.write(argument + sizeof(query), ids, query.ids_len * sizeof(uint32_t)));
  if (query.ids_len != 0 && count > query.ids_len) return rt::err(rt::kENOSPC);
  return 0;
}

// perf_event_set_output: the event's records go to `output_fd`'s ring (perf record's events
// share one ring a CPU), or back to its own with -1.
rt::Result<int64_t> set_output(Session& session, PerfEventObject& event, uint64_t argument) {
  PerfEventObject* output = nullptr;
  if (static_cast<int32_t>(argument) != -1) {
    output = TRY(perf_event_of(session, static_cast<int32_t>(argument), rt::kEBADF));
    if (output == &event) return rt::err(rt::kEINVAL);          // no circular references
    if (output->cpu != event.cpu) return rt::err(rt::kEINVAL);  // no cross-CPU buffers
    if (output->cpu == -1 && output->pid != event.pid) return rt::err(rt::kEINVAL);
    bool own_clock = event.attr.has(kPerfAttrUseClockid),
         output_clock = output->attr.has(kPerfAttrUseClockid);
    if (own_clock != output_clock || (own_clock && event.attr.clockid != output->attr.clockid))
      return rt::err(rt::kEINVAL);  // mixing clocks in one buffer
    if (event.attr.has(kPerfAttrWriteBackward) != output->attr.has(kPerfAttrWriteBackward))
      return rt::err(rt::kEINVAL);
  }
  if (event.ring != nullptr) return rt::err(rt::kEBUSY);  // an active mmap of its own
  if (output != nullptr && output->ring == nullptr) return rt::err(rt::kEINVAL);  // unmapped
  ObjectTable& objects = session.objects();
  if (output != nullptr) objects.acquire(output);
  if (event.output != nullptr) objects.release(event.output);
  event.output = output;
  return 0;
}

}  // namespace

rt::Result<int32_t> perf_event_open(Session& session, UserMemory& memory, uint64_t attr_address,
                                    int32_t pid, int32_t cpu, int32_t group_fd, uint64_t flags) {
  if ((flags & ~kPerfFlagAll) != 0) return rt::err(rt::kEINVAL);
  // Debian's perf_event_paranoid 3: only capable callers open perf events at all.
  if (!session.privileged()) return rt::err(rt::kEACCES);
  ObjectTable& objects = session.objects();
  ProbeTable* probes = objects.probes();
  if (probes == nullptr) return rt::err(rt::kENODEV, "no probe table set on the object table");

  // perf_copy_attr: the size first, then the struct.
  uint32_t size = 0;
  TRY(memory.read(&size, attr_address + offsetof(PerfEventAttr, size), sizeof(size)));
  uint32_t effective = size == 0 ? kPerfAttrSizeVer0 : size;
  auto size_error = [&]() -> rt::Result<int32_t> {
    uint32_t known = kPerfAttrSize;
    (void)memory.write(attr_address + offsetof(PerfEventAttr, size), &known, sizeof(known));
    return rt::err(rt::kE2BIG);
  };
  if (effective < kPerfAttrSizeVer0 || effective > kPerfAttrMaxSize) return size_error();
  ScratchBuffer bytes(objects.allocator(), effective);
  if (!bytes.ok()) return rt::err(rt::kENOMEM);
  TRY(memory.read(bytes.data(), attr_address, effective));
  auto parsed = parse_perf_event_attr(bytes.data(), effective);
  if (!parsed.ok()) {
    if (parsed.error().code == rt::kE2BIG) return size_error();
    return parsed.error();
  }
  const PerfEventAttr& attr = *parsed;

  // sys_perf_event_open's own checks (exclude_kernel, namespaces and PHYS_ADDR need
  // privilege, which the caller has).
  if (attr.has(kPerfAttrFreq)) {
    if (attr.sample_period > kMaxSampleRate) return rt::err(rt::kEINVAL);
  } else if (attr.sample_period & (1ull << 63)) {
    return rt::err(rt::kEINVAL);
  }
  if ((flags & kPerfFlagPidCgroup) && (pid == -1 || cpu == -1)) return rt::err(rt::kEINVAL);
  if (session.open_count() + 1 >= Session::kMaxHandles) return rt::err(rt::kEMFILE);
  if (group_fd != -1) {
    // perf_fget_light: EBADF for an fd that is no perf event (not open, or another file).
    if (!perf_event_of(session, group_fd, rt::kEBADF).ok()) return rt::err(rt::kEBADF);
    // GAP: event groups (group_fd, PERF_FLAG_FD_OUTPUT) are not implemented.
    return rt::err(rt::kEINVAL, "perf event groups are not implemented");
  }
  bool has_task = false;
  if (pid != -1 && !(flags & kPerfFlagPidCgroup)) {
    // find_lively_task_by_vpid: 0 is the caller.
    if (pid < -1 || (pid > 0 && !probes->hooks().task_exists(pid))) return rt::err(rt::kESRCH);
    has_task = true;
  }
  if (flags & kPerfFlagPidCgroup) {
    // GAP: cgroup events (pid is a cgroup directory fd).
    return rt::err(rt::kEOPNOTSUPP, "cgroup perf events are not implemented");
  }

  // perf_event_alloc.
  ebpf::Environment& environment = objects.environment();
  if (cpu < 0 || static_cast<uint32_t>(cpu) >= environment.possible_cpus()) {
    if (!has_task || cpu != -1) return rt::err(rt::kEINVAL);
  }
  if (attr.has(kPerfAttrSigtrap) && !has_task) return rt::err(rt::kEINVAL);
  auto* choice = static_cast<PmuChoice*>(objects.allocator().allocate(sizeof(PmuChoice), 8));
  if (choice == nullptr) return rt::err(rt::kENOMEM);
  new (choice) PmuChoice();
  Probe* probe = nullptr;
  auto finish = [&](rt::Result<void> result) -> rt::Result<void> {
    objects.allocator().deallocate(choice, sizeof(PmuChoice));
    return result;
  };
  // The task followed: pid 0 is the calling thread.
  int32_t task = -1;
  if (has_task) {
    task = pid != 0 ? pid : static_cast<int32_t>(environment.current_pid_tgid() & 0x7fffffff);
  }
  auto pmu = init_pmu(*probes, memory, attr, *choice);
  if (pmu.ok() && choice->probe) {
    choice->spec.pid = task;
    auto opened = probes->open_probe(choice->spec, choice->context_size);
    if (opened.ok()) {
      probe = *opened;
    } else {
      pmu = opened.error();
    }
  }
  TRY(finish(pmu));
  auto fail = [&](rt::Error error) -> rt::Result<int32_t> {
    if (probe != nullptr) probes->close_probe(probe);
    return error;
  };
  // perf_try_init_event and the rest of perf_event_alloc.
  if ((attr.sample_regs_user | attr.sample_regs_intr) & kExtendedRegisters)
    return fail(rt::err(rt::kEOPNOTSUPP));
  if (attr.has(kPerfAttrAuxOutput)) return fail(rt::err(rt::kEOPNOTSUPP));
  if ((attr.sample_type & kPerfSampleCallchain) && attr.sample_max_stack > kPerfEventMaxStack)
    return fail(rt::err(rt::kEOVERFLOW));
  if (attr.has(kPerfAttrUseClockid) && !known_clock(attr.clockid))
    return fail(rt::err(rt::kEINVAL));

  void* place = objects.allocator().allocate(sizeof(PerfEventObject), alignof(PerfEventObject));
  if (place == nullptr) return fail(rt::err(rt::kENOMEM));
  auto* event = new (place) PerfEventObject(objects.allocator());
  event->kind = ObjectKind::kPerfEvent;
  event->references = 1;  // the handle's; perf events have no id
  event->table = &objects;
  event->attr = attr;
  event->pid = task;
  event->cpu = cpu;
  event->event_id = probes->next_event_id();
  if (probe != nullptr) {
    event->probe = probe;
    link_event(*probe, event);
  }
  if (attr.type == kPerfTypeSoftware &&
      (attr.config == kPerfCountSwCpuClock || attr.config == kPerfCountSwTaskClock)) {
    // perf_swevent_init_hrtimer (both clocks sample on a timer): a frequency becomes a fixed
    // period; the task clock's samples are the ticks that found its task.
    if (attr.has(kPerfAttrFreq) && attr.sample_period != 0) {
      event->attr.sample_period = 1000000000ull / attr.sample_period;
      event->attr.flags &= ~static_cast<uint64_t>(kPerfAttrFreq);
    }
    if (auto added = probes->add_clock_event(event); !added.ok()) {
      objects.release(event);  // not on the clock's list: its removal finds nothing
      return added.error();
    }
  }
  if (!attr.has(kPerfAttrDisabled)) enable(*event, environment.monotonic_ns());
  // perf_event_enable_on_exec: the task's next exec enables it (a CPU-wide event is in no
  // task's context, so no exec enables it, as on Linux); attr.comm: execs it follows are
  // PERF_RECORD_COMMs in its ring.
  event->awaiting_exec = attr.has(kPerfAttrDisabled) && attr.has(kPerfAttrEnableOnExec) && task > 0;
  if (event->awaiting_exec || event->records_task_events()) {
    if (auto watching = probes->watch_exec(event); !watching.ok()) {
      objects.release(event);  // its only reference: destroyed
      return watching.error();
    }
  }
  // perf_event_init_task: the task's children (and theirs) inherit the event (counted into it).
  if (attr.has(kPerfAttrInherit) && task > 0) {
    if (auto watching = probes->watch_forks(event); !watching.ok()) {
      objects.release(event);
      return watching.error();
    }
  }
  if (attr.type == kPerfTypeSoftware) {
    if (auto watching = probes->watch_counter(event); !watching.ok()) {
      objects.release(event);
      return watching.error();
    }
  }
  return session.open(event, kCanRead | kCanWrite);
}

rt::Result<int64_t> perf_event_ioctl(Session& session, UserMemory& memory, int32_t fd,
                                     uint32_t command, uint64_t argument) {
  PerfEventObject* event = TRY(perf_event_of(session, fd, rt::kENOTTY));
  uint64_t now = session.objects().environment().monotonic_ns();
  // PERF_IOC_FLAG_GROUP applies to the group; every event is its own group leader here.
  switch (command) {
    case kPerfEventIocEnable:
      event->awaiting_exec = false;
      if (event->watches_exec && !event->records_task_events())
        session.objects().probes()->unwatch_exec(event);
      enable(*event, now);
      return 0;
    case kPerfEventIocDisable: disable(*event, now); return 0;
    case kPerfEventIocReset:
      event->count = 0;
      stop_task_clock(*event, now, false);
      return 0;
    case kPerfEventIocRefresh:
      // GAP: the overflow limit is not counted; the event is enabled.
      if (event->attr.has(kPerfAttrInherit) || event->attr.sample_period == 0)
        return rt::err(rt::kEINVAL);
      enable(*event, now);
      return 0;
    case kPerfEventIocPeriod: {
      uint64_t value = 0;
      TRY(memory.read(&value, argument, sizeof(value)));
      // _perf_event_period.
      if (event->attr.sample_period == 0 || value == 0) return rt::err(rt::kEINVAL);
      if (event->attr.has(kPerfAttrFreq) && value > kMaxSampleRate) return rt::err(rt::kEINVAL);
      if (!event->attr.has(kPerfAttrFreq) && (value & (1ull << 63))) return rt::err(rt::kEINVAL);
      event->attr.sample_period = value;
      return 0;
    }
    case kPerfEventIocId:
      TRY(memory.write(argument, &event->event_id, sizeof(event->event_id)));
      return 0;
    case kPerfEventIocSetOutput: return set_output(session, *event, argument);
    case kPerfEventIocSetFilter:
      // GAP: ftrace filters on tracepoint events; other events have none (EINVAL as Linux).
      return rt::err(rt::kEINVAL);
    case kPerfEventIocSetBpf: {
      Handle handle =
          TRY(session.lookup_kind(static_cast<int32_t>(argument), ObjectKind::kProgram));
      TRY(set_event_program(*event, static_cast<ProgramObject*>(handle.object), 0));
      return 0;
    }
    case kPerfEventIocPauseOutput:
      if (event->ring == nullptr) return rt::err(rt::kEINVAL);
      event->ring->set_paused(static_cast<uint32_t>(argument) != 0);
      return 0;
    case kPerfEventIocQueryBpf: return query_bpf(session, memory, *event, argument);
    case kPerfEventIocModifyAttributes: {
      // perf_event_modify_attr: perf_copy_attr of the new attr, then only breakpoint events
      // can be modified.
      uint32_t size = 0;
      TRY(memory.read(&size, argument + offsetof(PerfEventAttr, size), sizeof(size)));
      uint32_t effective = size == 0 ? kPerfAttrSizeVer0 : size;
      if (effective < kPerfAttrSizeVer0 || effective > kPerfAttrMaxSize) {
        uint32_t known = kPerfAttrSize;
        (void)memory.write(argument + offsetof(PerfEventAttr, size), &known, sizeof(known));
        return rt::err(rt::kE2BIG);
      }
      ScratchBuffer bytes(session.objects().allocator(), effective);
      if (!bytes.ok()) return rt::err(rt::kENOMEM);
      TRY(memory.read(bytes.data(), argument, effective));
      PerfEventAttr copy = TRY(parse_perf_event_attr(bytes.data(), effective));
      if (copy.type != event->attr.type) return rt::err(rt::kEINVAL);
      return rt::err(rt::kEOPNOTSUPP);
    }
    default: return rt::err(rt::kENOTTY);
  }
}

rt::Result<int64_t> perf_event_read(Session& session, UserMemory& memory, int32_t fd,
                                    uint64_t buffer, uint64_t count) {
  PerfEventObject* event = TRY(perf_event_of(session, fd, rt::kEINVAL));
  uint64_t format = event->attr.read_format;
  // __perf_event_read_size with no siblings.
  uint64_t entry = 8 + ((format & kPerfFormatId) ? 8 : 0) + ((format & kPerfFormatLost) ? 8 : 0);
  uint64_t head = ((format & kPerfFormatTotalTimeEnabled) ? 8 : 0) +
                  ((format & kPerfFormatTotalTimeRunning) ? 8 : 0) +
                  ((format & kPerfFormatGroup) ? 8 : 0);
  if (count < head + entry) return rt::err(rt::kENOSPC);
  uint64_t now = session.objects().environment().monotonic_ns();
  uint64_t values[7];
  uint32_t n = 0;
  uint64_t enabled = time_enabled(*event, now);
  uint64_t lost = event->ring != nullptr ? event->ring->lost_total() : 0;
  if (format & kPerfFormatGroup) values[n++] = 1;  // the leader alone
  if (!(format & kPerfFormatGroup)) values[n++] = event_count(*event, now);
  if (format & kPerfFormatTotalTimeEnabled) values[n++] = enabled;
  if (format & kPerfFormatTotalTimeRunning) values[n++] = enabled;  // GAP: running = enabled
  if (format & kPerfFormatGroup) values[n++] = event_count(*event, now);
  if (format & kPerfFormatId) values[n++] = event->event_id;
  if (format & kPerfFormatLost) values[n++] = lost;
  TRY(memory.write(buffer, values, n * sizeof(uint64_t)));
  return static_cast<int64_t>(n * sizeof(uint64_t));
}

rt::Result<uint32_t> perf_event_poll(Session& session, int32_t fd) {
  PerfEventObject* event = TRY(perf_event_of(session, fd, rt::kEINVAL));
  constexpr uint32_t kEpollHup = 0x10;
  PerfEventRing* ring = event->output_ring();  // a redirected event polls the ring it feeds
  if (ring == nullptr) return kEpollHup;
  return ring->take_poll_events();
}

rt::Result<PerfEventMapping> perf_event_mmap(Session& session, int32_t fd, uint64_t length,
                                             uint64_t page_offset, bool shared) {
  PerfEventObject* event = TRY(perf_event_of(session, fd, rt::kENODEV));
  // perf_mmap.
  if (event->cpu == -1 && event->attr.has(kPerfAttrInherit)) return rt::err(rt::kEINVAL);
  if (!shared) return rt::err(rt::kEINVAL);
  if (length == 0) return rt::err(rt::kEINVAL);  // mmap itself
  // GAP: the AUX area (a mapping at a nonzero offset) is not implemented; Linux answers
  // EINVAL too while the event has no AUX-capable PMU.
  if (page_offset != 0) return rt::err(rt::kEINVAL);
  uint64_t pages = (length + kPerfRingPageSize - 1) / kPerfRingPageSize;
  uint64_t data_pages = pages - 1;
  if (data_pages != 0 && (data_pages & (data_pages - 1)) != 0) return rt::err(rt::kEINVAL);
  if (data_pages > (1u << 20)) return rt::err(rt::kENOMEM);
  ObjectTable& objects = session.objects();
  // An event redirected by PERF_EVENT_IOC_SET_OUTPUT has the output's ring as its buffer
  // (Linux's event->rb): a mapping of it maps that ring, which then stays while mapped.
  if (event->output != nullptr && event->output->ring != nullptr) event = event->output;
  if (event->ring != nullptr) {
    if (event->ring->data_pages() != data_pages) return rt::err(rt::kEINVAL);
  } else {
    event->ring =
        TRY(PerfEventRing::create(objects.allocator(), static_cast<uint32_t>(data_pages),
                                  event->attr.has(kPerfAttrWatermark), event->attr.wakeup_events));
    event->ring->set_wakeup(&ReaderWakeups::wake, &objects.reader_wakeups());
  }
  ++event->mappings;
  objects.acquire(event);
  return PerfEventMapping{event, event->ring->memory(), event->ring->memory_size(),
                          event->ring->data_pages()};
}

void perf_event_munmap(ObjectTable& objects, PerfEventObject* event) {
  if (event->mappings == 0) return;
  if (--event->mappings == 0 && event->ring != nullptr) {
    event->ring->destroy(objects.allocator());
    event->ring = nullptr;
    objects.reader_wakeups().wake_everyone();  // a poll of the event is EPOLLHUP from now on
  }
  objects.release(event);
}

}  // namespace trace
