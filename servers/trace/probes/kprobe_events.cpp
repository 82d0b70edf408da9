// SPDX-License-Identifier: MIT
// KprobeEventSwitch: arming on enable, records on hits.
#include "kprobe_events.hpp"

#include "kernel_probes.hpp"
#include "rt/errno.hpp"
#include "rt/kernel_alias.hpp"
#include "sys/clock.hpp"
#include "sys/server_start.hpp"

namespace trace {

namespace detail {

void read_current_task_into(CurrentTaskView& view) {
  const auto* task = reinterpret_cast<const volatile sys::CurrentTask*>(sys::kCurrentTaskPage);
  uint64_t now = task->sequence;
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  if ((now & 1) == 0 && now == view.sequence) return;  // the same record as the last read
  // The POSIX server is stopped while a probe on it is handled: one pass normally suffices.
  for (int tries = 0; tries < 4; ++tries) {
    uint64_t before = task->sequence;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    view.pid = task->pid;
    view.tgid = task->tgid;
    view.uid = task->uid;
    view.gid = task->gid;
    __builtin_memcpy(view.comm, const_cast<const char*>(task->comm), 16);
    view.comm[15] = 0;
    view.task_struct = task->task_struct;
    view.user_pages = task->user_pages;
    view.cpu = task->cpu;
    view.serving_context = task->serving_context;
    view.registers_offset = task->registers_offset;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if ((before & 1) == 0 && task->sequence == before) {
      view.sequence = before;
      return;
    }
  }
  view.sequence = 1;  // torn: read again next time
}

}  // namespace detail

rt::Result<void> KprobeEventSwitch::event_enabled(Event& event, bool enabled) {
  if (SyscallTracepoints::is_syscall_event(event)) return syscalls_.event_enabled(event, enabled);
  if (SchedTracepoints::is_sched_event(event)) {
    if (sched_ == nullptr) return rt::err(rt::kEOPNOTSUPP);
    return sched_->event_enabled(event, enabled);
  }
  if (event.source == EventSource::kUprobe) {
    if (uprobes_ == nullptr || event.probe == nullptr) return rt::err(rt::kEOPNOTSUPP);
    if (!enabled) {
      uprobes_->disarm_event(event);
      return {};
    }
    return uprobes_->arm_event(event);
  }
  if (event.source != EventSource::kKprobe || event.probe == nullptr) return {};
  if (!enabled) {
    for (Client& client : clients_) {
      if (client.event != &event || client.perf_probe != 0) continue;
      if (client.is_return) {
        kprobes_.detach_return(client.address, &client);
      } else {
        kprobes_.detach(client.address, &client);
      }
      client = Client{};
    }
    return {};
  }
  return arm(event, 0);
}

rt::Result<void> KprobeEventSwitch::arm(Event& event, uint32_t perf_probe) {
  const auto& probe = *static_cast<const ProbeDefinition*>(event.probe);
  // An address as kallsyms lists it: the POSIX server's kernel alias (or the server's own).
  uint64_t address = sonde::abi::server_address(probe.address);
  if (!probe.target.empty() &&
      !symbols_.resolve(probe.target.data(), probe.target.size(), probe.offset, address)) {
    return rt::err(rt::kENOENT);
  }
  TRY(kprobes_.check_probe_point(address));
  Client* free = nullptr;
  for (Client& client : clients_) {
    if (client.event == &event && client.perf_probe == perf_probe) return {};  // already armed
    if (client.event == nullptr && free == nullptr) free = &client;
  }
  if (free == nullptr) return rt::err(rt::kENOSPC, "too many kprobe events enabled");
  free->owner = this;
  free->event = &event;
  free->address = address;
  free->is_return = probe.is_return;
  free->perf_probe = perf_probe;
  auto attached =
      probe.is_return ? kprobes_.attach_return(address, free) : kprobes_.attach(address, free);
  if (!attached.ok()) {
    *free = Client{};
    return attached.error();
  }
  return {};
}

Event* KprobeEventSwitch::find_probe_event(uint64_t id) {
  EventRegistry& events = tracefs_.events();
  for (size_t i = 0; i < events.size(); ++i) {
    Event& event = events.at(i);
    if (event.id != id) continue;
    bool probe_event = event.source == EventSource::kKprobe || event.source == EventSource::kUprobe;
    return probe_event && event.probe != nullptr ? &event : nullptr;
  }
  return nullptr;
}

bool KprobeEventSwitch::has_probe_event(uint64_t id) { return find_probe_event(id) != nullptr; }

rt::Result<void> KprobeEventSwitch::arm_tracepoint(uint32_t probe, uint64_t id) {
  Event* event = find_probe_event(id);
  if (event == nullptr || table_ == nullptr) return rt::err(rt::kEOPNOTSUPP);
  if (event->source == EventSource::kUprobe) {
    if (uprobes_ == nullptr) return rt::err(rt::kEOPNOTSUPP, "no uprobes here");
    return uprobes_->arm_tracepoint(probe, *event);  // busy while held, as a kprobe event
  }
  TRY(arm(*event, probe));
  ++event->users;  // kprobe_events refuses to delete it (EBUSY) while a perf event holds it
  return {};
}

bool KprobeEventSwitch::disarm(uint32_t probe) {
  for (Client& client : clients_) {
    if (client.perf_probe != probe || client.event == nullptr || probe == 0) continue;
    if (client.is_return) {
      kprobes_.detach_return(client.address, &client);
    } else {
      kprobes_.detach(client.address, &client);
    }
    if (client.event->users > 0) --client.event->users;
    client = Client{};
    return true;
  }
  return false;
}

void KprobeEventSwitch::Client::on_hit(const PtRegs& regs, uint64_t address, TracedMemory& memory) {
  if (!is_return) record(regs, address, 0, memory);
}

void KprobeEventSwitch::Client::on_return(const PtRegs& regs, uint64_t function,
                                          uint64_t return_address, TracedMemory& memory) {
  if (is_return) record(regs, function, return_address, memory);
}

void KprobeEventSwitch::Client::record(const PtRegs& regs, uint64_t address,
                                       uint64_t return_address, TracedMemory& memory) {
  if (event == nullptr || event->probe == nullptr) return;
  // A sample of a microkernel function: no Linux task ran it (pid 0, comm "microkernel").
  const sonde::abi::SampleRecord* sample = current_kernel_sample();
  CurrentTaskView task;
  if (sample == nullptr) {
    task = read_current_task();
  } else {
    for (size_t i = 0; i < sizeof kKernelSampleComm; ++i) task.comm[i] = kKernelSampleComm[i];
  }
  alignas(8) static uint8_t record[8192];
  // __probe_ip, __probe_func and __probe_ret_ip where Linux programs see the server's code.
  FetchContext hit{sonde::abi::kernel_alias(address), sonde::abi::kernel_alias(return_address),
                   task.comm};
  auto& probe = *static_cast<ProbeDefinition*>(event->probe);
  ++probe.hits;  // kprobe_profile
  size_t size = build_probe_record(probe, static_cast<uint16_t>(event->id), task.pid, regs, hit,
                                   memory, record, sizeof record);
  if (size == 0) return;
  TraceContext context;
  context.timestamp_ns = sample != nullptr ? sample_time_ns(*sample) : sys::clock_ns();
  // The CPU of the task the server works for (a server function runs for it, as Linux's on the
  // task's CPU), or the one the microkernel sample was taken on.
  context.cpu = sample != nullptr ? static_cast<uint32_t>(sample->cpu) : task.cpu;
  context.pid = task.pid;
  for (int i = 0; i < 16; ++i) context.comm[i] = task.comm[i];
  // Linux 6.1 (KPROBES_ON_FTRACE) probes a function's first byte through ftrace, with
  // interrupts on; other offsets through int3, with interrupts off ("d"). The POSIX server's
  // functions start with a patchable NOP, as ftrace's; return probes run with interrupts on.
  bool ftrace_like =
      sample == nullptr && (is_return || (!probe.target.empty() && probe.offset == 0));
  context.flags = ftrace_like ? 0 : kTraceIrqsOff;
  if (perf_probe != 0) {
    // A perf event's: the record is the tracepoint context of its programs and samples.
    ProbeHit hit{record, static_cast<uint32_t>(size), context.cpu, context.pid, address};
    (void)owner->table_->report_hit(perf_probe, hit);
    return;
  }
  owner->tracefs_.record_event(*event, context, record, size);
}

}  // namespace trace
