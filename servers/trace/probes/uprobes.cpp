// SPDX-License-Identifier: MIT
// Uprobes: sites, the sites' list for the POSIX server, and hits.
#include "uprobes.hpp"

#include "kprobe_events.hpp"
#include "kprobes.hpp"
#include "rt/errno.hpp"
#include "sys/clock.hpp"
#include "task_environment.hpp"
#include "trace/xol.hpp"

namespace trace {

namespace {

// The traced process's memory, through the helpers' bpf_probe_read_user path (its page map
// in the POSIX server): what a uprobe event's fetch arguments read.
class ProcessUserMemory final : public TracedMemory {
 public:
  explicit ProcessUserMemory(TaskEnvironment& environment) : environment_(environment) {}
  bool read(void* destination, uint64_t address, size_t size) override {
    return size <= 0xffffffffu &&
           environment_.read_user(destination, address, static_cast<uint32_t>(size)) == 0;
  }

 private:
  TaskEnvironment& environment_;
};

}  // namespace

rt::Result<Uprobes::Site*> Uprobes::add(const char* path, size_t length, uint64_t offset,
                                        bool is_return, int32_t pid, uint64_t ref_ctr_offset) {
  if (path == nullptr || length == 0) return rt::err(rt::kEINVAL);
  if (length >= kPathMax) return rt::err(rt::kENAMETOOLONG, "uprobe path too long here");
  Site* free = nullptr;
  for (Site& site : sites_) {
    if (site.id == 0) {
      free = &site;
      break;
    }
  }
  if (free == nullptr) return rt::err(rt::kENOSPC, "too many uprobes");
  *free = Site{};
  free->id = next_id_++;
  for (size_t i = 0; i < length; ++i) free->path[i] = path[i];
  free->offset = offset;
  free->is_return = is_return;
  free->pid = pid;
  free->ref_ctr_offset = ref_ctr_offset;
  ++generation_;
  return free;
}

rt::Result<void> Uprobes::arm_perf(uint32_t probe, const ProbeSpec& spec) {
  size_t length = 0;
  while (spec.path != nullptr && spec.path[length] != 0) ++length;
  Site* site =
      TRY(add(spec.path, length, spec.offset, spec.is_return, spec.pid, spec.ref_ctr_offset));
  site->probe = probe;
  return {};
}

rt::Result<void> Uprobes::arm_event(Event& event) {
  for (Site& site : sites_) {
    if (site.id != 0 && site.event == &event && site.probe == 0) return {};  // already armed
  }
  const auto& probe = *static_cast<const ProbeDefinition*>(event.probe);
  Site* site = TRY(add(probe.target.data(), probe.target.size(), probe.offset, probe.is_return, -1,
                       probe.ref_ctr_offset));
  site->event = &event;
  return {};
}

rt::Result<void> Uprobes::arm_tracepoint(uint32_t probe, Event& event) {
  const auto& definition = *static_cast<const ProbeDefinition*>(event.probe);
  Site* site = TRY(add(definition.target.data(), definition.target.size(), definition.offset,
                       definition.is_return, -1, definition.ref_ctr_offset));
  site->event = &event;
  site->probe = probe;
  ++event.users;  // uprobe_events refuses to delete it (EBUSY) while a perf event holds it
  return {};
}

void Uprobes::disarm_perf(uint32_t probe) {
  for (Site& site : sites_) {
    if (site.id == 0 || site.probe != probe || probe == 0) continue;
    if (site.event != nullptr && site.event->users > 0) --site.event->users;
    site = Site{};
    ++generation_;
  }
}

void Uprobes::disarm_event(Event& event) {
  for (Site& site : sites_) {
    if (site.id == 0 || site.event != &event || site.probe != 0) continue;
    site = Site{};
    ++generation_;
  }
}

void Uprobes::sites(uint64_t known,
                    sonde::proto::TraceService::UprobeSitesResults::Builder results) {
  results.setGeneration(generation_);
  if (known == generation_) {
    results.setUnchanged(true);
    return;
  }
  uint32_t count = 0;
  for (const Site& site : sites_) count += site.id != 0 ? 1 : 0;
  auto list = results.initSites(count);
  uint32_t at = 0;
  for (const Site& site : sites_) {
    if (site.id == 0) continue;
    auto entry = list[at++];
    entry.setProbe(site.id);
    entry.setPath(site.path);
    entry.setOffset(site.offset);
    entry.setIsReturn(site.is_return);
    entry.setRefCtrOffset(site.ref_ctr_offset);
    entry.setPid(site.pid);
  }
}

int64_t Uprobes::prepare(const uint8_t* bytes, size_t size, uint64_t address,
                         sonde::proto::UprobePlan::Builder plan) {
  auto planned = plan_out_of_line(bytes, size, address);
  if (!planned.ok()) return -static_cast<int64_t>(planned.error().code);
  const XolPlan& p = planned.value();
  using Action = sonde::proto::UprobeAction;
  switch (p.action) {
    case XolAction::kStep: plan.setAction(Action::kStep); break;
    case XolAction::kJump: plan.setAction(Action::kJump); break;
    case XolAction::kBranch: plan.setAction(Action::kBranch); break;
    case XolAction::kCall: plan.setAction(Action::kCall); break;
  }
  plan.setLength(p.length);
  plan.setFixupRegister(p.fixup_register);
  plan.setTarget(p.target);
  plan.setCondition(p.condition);
  if (p.action == XolAction::kStep) {
    // The kernel ends the step where the copy ends: it must be as long as the original.
    if (p.slot_length != p.length) return -static_cast<int64_t>(rt::kEOPNOTSUPP);
    plan.setSlot(p.slot, p.slot_length);
  }
  return 0;
}

void Uprobes::hit(const uint32_t* probes, uint32_t count, const uint64_t* words, bool is_return,
                  uint64_t function) {
  static_assert(sonde::abi::kUserRegisterWords == kRegisterWords);
  sonde::abi::UserRegisters registers;
  __builtin_memcpy(&registers, words, sizeof registers);
  PtRegs regs = pt_regs_from(registers);
  if (observer_ != nullptr) observer_->hit_begins(memory_, &regs, HitObserver::HitRegisters::kUser);
  for (uint32_t i = 0; i < count; ++i) {
    for (Site& site : sites_) {
      if (site.id == 0 || site.id != probes[i] || site.is_return != is_return) continue;
      if (site.event != nullptr) {
        record(site, regs, is_return ? function : registers.rip, is_return ? registers.rip : 0);
      } else if (table_ != nullptr) {
        Probe* probe = table_->find(site.probe);
        if (probe == nullptr) break;
        ProbeHit hit;  // the registers themselves: a program cannot write its context
        hit.context = &regs;
        hit.size = sizeof regs;
        // The POSIX server published the hit's CPU (its fault message's) with the task.
        follow_task(*probe, hit);
        (void)table_->report_hit(*probe, hit);
      }
      break;  // ids are unique
    }
  }
  if (observer_ != nullptr) observer_->hit_ends();
  memory_.release();
}

void Uprobes::record(Site& site, const PtRegs& regs, uint64_t function, uint64_t return_address) {
  Event& event = *site.event;
  if (event.probe == nullptr) return;
  CurrentTaskView task = read_current_task();
  alignas(8) static uint8_t buffer[8192];
  FetchContext context{function, return_address, task.comm};
  ProcessUserMemory user(environment_);
  auto& probe = *static_cast<ProbeDefinition*>(event.probe);
  ++probe.hits;  // uprobe_profile
  size_t size = build_probe_record(probe, static_cast<uint16_t>(event.id), task.pid, regs, context,
                                   user, buffer, sizeof buffer);
  if (size == 0) return;
  if (site.probe != 0) {
    // A perf event's: the record is the tracepoint context of its programs and samples.
    if (table_ == nullptr) return;
    ProbeHit hit{buffer, static_cast<uint32_t>(size), task.cpu, task.pid, function};
    (void)table_->report_hit(site.probe, hit);
    return;
  }
  TraceContext line;
  line.timestamp_ns = sys::clock_ns();
  line.cpu = task.cpu;  // the hit's (its fault message's), published with the task
  line.pid = task.pid;
  for (int i = 0; i < 16; ++i) line.comm[i] = task.comm[i];
  tracefs_.record_event(event, line, buffer, size);
}

}  // namespace trace
