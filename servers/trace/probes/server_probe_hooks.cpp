// SPDX-License-Identifier: MIT
// ServerProbeHooks: kprobe PMU events on POSIX-server functions run their programs on hits.
#include "server_probe_hooks.hpp"

#include "ebpf/program.hpp"
#include "kernel_probes.hpp"
#include "kprobe_events.hpp"
#include "rt/errno.hpp"
#include "rt/kernel_alias.hpp"

namespace trace {

rt::Result<uint32_t> ServerProbeHooks::tracepoint_record_size(uint64_t id) {
  EventRegistry& events = tracefs_.events();
  for (size_t i = 0; i < events.size(); ++i) {
    if (events.at(i).id == id) return events.at(i).record_size();
  }
  return rt::err(rt::kEINVAL);
}

const char* ServerProbeHooks::tracepoint_name(uint64_t id) {
  EventRegistry& events = tracefs_.events();
  for (size_t i = 0; i < events.size(); ++i) {
    if (events.at(i).id == id) return events.at(i).name;
  }
  return nullptr;
}

rt::Result<uint32_t> ServerProbeHooks::raw_tracepoint_arguments(const char* name) {
  const char* known[] = {"sys_enter", "sys_exit"};
  for (const char* candidate : known) {
    size_t i = 0;
    while (name[i] != 0 && name[i] == candidate[i]) ++i;
    if (name[i] == 0 && candidate[i] == 0) return uint32_t{2};
  }
  uint32_t sched = sched_ != nullptr ? SchedTracepoints::raw_arguments(name) : 0;
  if (sched != 0) return sched;
  return rt::err(rt::kENOENT);
}

rt::Result<void> ServerProbeHooks::arm(uint32_t probe, const ProbeSpec& spec) {
  if (spec.kind == ProbeKind::kTracepoint) {
    if (sched_ != nullptr && sched_->has_tracepoint(spec.tracepoint_id))
      return sched_->arm_tracepoint(probe, spec.tracepoint_id);
    if (kprobe_events_ != nullptr && kprobe_events_->has_probe_event(spec.tracepoint_id))
      return kprobe_events_->arm_tracepoint(probe, spec.tracepoint_id);
    return syscalls_.arm_tracepoint(probe, spec.tracepoint_id);
  }
  if (spec.kind == ProbeKind::kRawTracepoint) {
    if (sched_ != nullptr && SchedTracepoints::raw_arguments(spec.name) != 0)
      return sched_->arm_raw(probe, spec.name);
    return syscalls_.arm_raw(probe, spec.name);
  }
  if (spec.kind == ProbeKind::kTracing && spec.arguments > kMaxTracingRegisterArgs) {
    return rt::err(rt::kEINVAL, "a function with more than six arguments");
  }
  if (spec.kind == ProbeKind::kUprobe) {
    if (uprobes_ == nullptr) return rt::err(rt::kEOPNOTSUPP, "no uprobes here");
    return uprobes_->arm_perf(probe, spec);
  }
  // An address a program hands in (the kprobe PMU's config2, kprobe_multi's addrs) may be
  // the POSIX server's kernel alias, as kallsyms lists it.
  uint64_t address = sonde::abi::server_address(spec.address);
  if (spec.symbol != nullptr) {
    size_t length = 0;
    while (spec.symbol[length] != 0) ++length;
    if (!symbols_.resolve(spec.symbol, length, spec.offset, address)) return rt::err(rt::kENOENT);
  } else if (spec.multi && !symbols_.is_function_start(address)) {
    return rt::err(rt::kEINVAL, "a kprobe_multi address that is no function entry");
  }
  TRY(kprobes_.check_probe_point(address));
  Client* free = nullptr;
  for (Client& client : clients_) {
    if (client.probe == 0) {
      free = &client;
      break;
    }
  }
  if (free == nullptr) return rt::err(rt::kENOSPC, "too many probes armed");
  free->owner = this;
  free->probe = probe;
  free->address = address;
  free->is_return = spec.is_return;
  free->multi = spec.multi;
  free->tracing = spec.kind == ProbeKind::kTracing;
  free->arguments = spec.arguments;
  auto attached =
      spec.is_return ? kprobes_.attach_return(address, free) : kprobes_.attach(address, free);
  if (!attached.ok()) {
    *free = Client{};
    return attached.error();
  }
  return {};
}

void ServerProbeHooks::disarm(uint32_t probe) {
  if (syscalls_.disarm(probe)) return;
  if (sched_ != nullptr && sched_->disarm(probe)) return;
  if (kprobe_events_ != nullptr && kprobe_events_->disarm(probe)) return;
  if (uprobes_ != nullptr) uprobes_->disarm_perf(probe);
  for (Client& client : clients_) {
    if (client.probe != probe) continue;
    if (client.is_return) {
      kprobes_.detach_return(client.address, &client);
    } else {
      kprobes_.detach(client.address, &client);
    }
    client = Client{};
  }
}

void ServerProbeHooks::Client::on_hit(const PtRegs& regs, uint64_t, TracedMemory&) {
  if (is_return) return;
  if (tracing) {
    report_arguments(regs);
  } else {
    report(regs);
  }
}

void ServerProbeHooks::Client::on_return(const PtRegs& regs, uint64_t, uint64_t, TracedMemory&) {
  if (!is_return) return;
  if (tracing) {
    report_arguments(regs);
  } else {
    report(regs);
  }
}

Probe* ServerProbeHooks::Client::find_target() {
  if (target == nullptr && owner != nullptr && owner->table_ != nullptr && probe != 0)
    target = owner->table_->find(probe);
  return target;
}

void ServerProbeHooks::Client::report_arguments(const PtRegs& regs) {
  if (find_target() == nullptr) return;
  // The count first, as Linux's trampoline stores it below the arguments (ctx[-1]).
  uint64_t words[1 + kMaxTracingRegisterArgs + 1] = {};
  uint32_t count = arguments < kMaxTracingRegisterArgs ? arguments : kMaxTracingRegisterArgs;
  words[0] = count | (is_return ? ebpf::kTrampolineHasReturn : 0);
  const uint64_t at_entry[kMaxTracingRegisterArgs] = {regs.di, regs.si, regs.dx,
                                                      regs.cx, regs.r8, regs.r9};
  const uint64_t* values = at_entry;
  if (is_return) {
    // The registers now are the return's: the call's arguments were kept at its entry.
    values = owner->kprobes_.entry_arguments();
    if (values == nullptr) return;  // the call began before the program was attached
    words[1 + count] = regs.ax;
  }
  for (uint32_t i = 0; i < count; ++i) words[1 + i] = values[i];
  ProbeHit hit;
  hit.context = &words[1];
  hit.size = (count + (is_return ? 1 : 0)) * 8;
  const CurrentTaskView& task = read_current_task();
  hit.cpu = task.cpu;
  hit.pid = task.pid;
  hit.function_ip = sonde::abi::kernel_alias(address);
  (void)owner->table_->report_hit(*target, hit);
}

void ServerProbeHooks::Client::report(const PtRegs& regs) {
  if (find_target() == nullptr) return;
  // The programs' r1: the hit's registers themselves, no copy (the verifier refuses any write
  // to a kprobe program's context, as Linux's kprobe_prog_is_valid_access).
  ProbeHit hit;
  hit.context = const_cast<PtRegs*>(&regs);
  hit.size = sizeof regs;
  const sonde::abi::SampleRecord* sample = current_kernel_sample();
  if (sample != nullptr) {  // the kernel's: no Linux task
    hit.cpu = static_cast<uint32_t>(sample->cpu);
  } else {
    follow_task(*target, hit);  // libbpf's kprobes (pid -1, CPU 0) read the CPU word alone
  }
  // bpf_get_func_ip: the probed function, at entry and return, where Linux programs see it.
  hit.function_ip = sonde::abi::kernel_alias(address);
  (void)owner->table_->report_hit(*target, hit);
}

}  // namespace trace
