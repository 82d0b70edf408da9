// SPDX-License-Identifier: MIT
// SyscallTracepoints: arming the two hooks by use count, records as the format files lay them
// out, tracefs lines and BPF programs on each hit.
#include "syscall_tracepoints.hpp"

#include "kprobe_events.hpp"
#include "rt/errno.hpp"
#include "sys/clock.hpp"

namespace trace {

namespace {

constexpr uint8_t kSyscallEventPreemptCount = 1;

constexpr uint32_t kRawEnterId = 20;  // raw_syscalls:sys_enter (events.cpp; sys_exit is 21)

bool same(const char* a, const char* b) {
  while (*a != 0 && *a == *b) {
    ++a;
    ++b;
  }
  return *a == *b;
}

size_t length_of(const char* text) {
  size_t n = 0;
  while (text[n] != 0) ++n;
  return n;
}

}  // namespace

SyscallTracepoints::SyscallTracepoints(Tracefs& tracefs, PosixSymbols& symbols, Kprobes& kprobes)
    : tracefs_(tracefs), symbols_(symbols), kprobes_(kprobes) {
  enter_.function = "trace_sys_enter";
  exit_.function = "trace_sys_exit";
  enter_.keys_symbol = "trace_syscall_keys_enter";
  exit_.keys_symbol = "trace_syscall_keys_exit";
  enter_.all_symbol = "trace_syscall_key_all_enter";
  exit_.all_symbol = "trace_syscall_key_all_exit";
  enter_.hook.owner = this;
  enter_.hook.enter = true;
  exit_.hook.owner = this;
  exit_.hook.enter = false;
}

bool SyscallTracepoints::is_enter_event(const Event& event) {
  return event.source == EventSource::kSyscallEnter || event.id == kRawEnterId;
}

bool SyscallTracepoints::is_syscall_event(const Event& event) {
  return event.source == EventSource::kSyscallEnter || event.source == EventSource::kSyscallExit ||
         same(event.system, "raw_syscalls");
}

rt::Result<void> SyscallTracepoints::resolve(Side& side) {
  if (side.address != 0) return {};
  if (!symbols_.resolve(side.function, length_of(side.function), 0, side.address) ||
      !symbols_.resolve(side.keys_symbol, length_of(side.keys_symbol), 0, side.keys) ||
      !symbols_.resolve(side.all_symbol, length_of(side.all_symbol), 0, side.all)) {
    side.address = 0;
    return rt::err(rt::kENOENT, "the POSIX server has no syscall hooks");
  }
  return {};
}

rt::Result<void> SyscallTracepoints::use_all(Side& side) {
  if (side.all_users == 0) TRY(kprobes_.attach(side.all, &key_));
  ++side.all_users;
  return {};
}

void SyscallTracepoints::unuse_all(Side& side) {
  if (side.all_users != 0 && --side.all_users == 0) kprobes_.detach(side.all, &key_);
}

// The hook first, then the key: the POSIX server calls the hook for a system call while both
// are armed (a call racing with the arming may go unseen, as Linux's events racing with their
// enabling). A call whose own key cannot be armed (too many breakpoints) has the all key.
rt::Result<void> SyscallTracepoints::use(bool enter, int64_t nr) {
  Side& side = enter ? enter_ : exit_;
  TRY(resolve(side));
  if (side.users == 0) TRY(kprobes_.attach(side.address, &side.hook));
  ++side.users;
  rt::Result<void> keyed = {};
  if (nr < 0 || nr >= kKeys) {
    keyed = use_all(side);
  } else if (side.key_users[nr] == 0) {
    if (side.own_keys < kMaxOwnKeys &&
        kprobes_.attach(side.keys + static_cast<uint64_t>(nr), &key_).ok()) {
      ++side.own_keys;
    } else {
      keyed = use_all(side);
      side.key_by_all[nr] = keyed.ok();
    }
    if (keyed.ok()) side.key_users[nr] = 1;
  } else {
    ++side.key_users[nr];
  }
  if (!keyed.ok()) {
    if (--side.users == 0) kprobes_.detach(side.address, &side.hook);
    return keyed.error();
  }
  return {};
}

void SyscallTracepoints::unuse(bool enter, int64_t nr) {
  Side& side = enter ? enter_ : exit_;
  if (side.users == 0) return;
  if (nr < 0 || nr >= kKeys) {
    unuse_all(side);
  } else if (side.key_users[nr] != 0 && --side.key_users[nr] == 0) {
    if (side.key_by_all[nr]) {
      side.key_by_all[nr] = false;
      unuse_all(side);
    } else {
      kprobes_.detach(side.keys + static_cast<uint64_t>(nr), &key_);
      --side.own_keys;
    }
  }
  if (--side.users == 0) kprobes_.detach(side.address, &side.hook);
}

rt::Result<void> SyscallTracepoints::event_enabled(Event& event, bool enabled) {
  bool enter = event.source == EventSource::kSyscallEnter ||
               (event.source == EventSource::kBuiltin && event.id == kRawEnterId);
  int64_t nr = event.source == EventSource::kBuiltin ? -1 : event.syscall_nr;
  if (enabled) {
    TRY(use(enter, nr));
    ++enabled_[enter];
    return {};
  }
  if (enabled_[enter] > 0) --enabled_[enter];
  unuse(enter, nr);
  return {};
}

rt::Result<void> SyscallTracepoints::arm_tracepoint(uint32_t probe, uint64_t id) {
  EventRegistry& events = tracefs_.events();
  const Event* event = nullptr;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events.at(i).id == id) event = &events.at(i);
  }
  if (event == nullptr || !is_syscall_event(*event)) {
    return rt::err(rt::kEOPNOTSUPP, "not a syscall tracepoint");
  }
  bool enter = event->source == EventSource::kSyscallEnter || event->id == kRawEnterId;
  int64_t nr = event->source == EventSource::kBuiltin ? -1 : event->syscall_nr;
  for (uint32_t i = 0; i < kMaxArmed; ++i) {
    if (armed_[i].probe != 0) continue;
    TRY(use(enter, nr));
    take(i, Armed{probe, enter, false, static_cast<uint32_t>(id), nr, event});
    return {};
  }
  return rt::err(rt::kENOSPC, "too many syscall tracepoint programs");
}

void SyscallTracepoints::take(uint32_t index, const Armed& armed) {
  armed_[index] = armed;
  if (index + 1 > armed_end_) armed_end_ = index + 1;
}

rt::Result<void> SyscallTracepoints::arm_raw(uint32_t probe, const char* name) {
  bool enter = same(name, "sys_enter");
  if (!enter && !same(name, "sys_exit")) return rt::err(rt::kENOENT);
  for (uint32_t i = 0; i < kMaxArmed; ++i) {
    if (armed_[i].probe != 0) continue;
    TRY(use(enter, -1));
    take(i, Armed{probe, enter, true, 0, -1, nullptr});
    return {};
  }
  return rt::err(rt::kENOSPC, "too many syscall tracepoint programs");
}

bool SyscallTracepoints::disarm(uint32_t probe) {
  bool found = false;
  for (Armed& armed : armed_) {
    if (armed.probe != probe || probe == 0) continue;
    unuse(armed.enter, armed.nr);
    armed = Armed{};
    found = true;
  }
  while (armed_end_ > 0 && armed_[armed_end_ - 1].probe == 0) --armed_end_;
  return found;
}

uint32_t SyscallTracepoints::build(const Event& event, bool enter, long id, long ret,
                                   const PtRegs& regs, int32_t pid, uint8_t* out) const {
  uint32_t size = event.record_size();
  for (uint32_t i = 0; i < size; ++i) out[i] = 0;
  auto type = static_cast<uint16_t>(event.id);
  __builtin_memcpy(out, &type, 2);
  __builtin_memcpy(out + 4, &pid, 4);
  if (event.source == EventSource::kBuiltin) {  // raw_syscalls: long id, then args or ret
    __builtin_memcpy(out + 8, &id, 8);
    if (enter) {
      const uint64_t args[6] = {regs.di, regs.si, regs.dx, regs.r10, regs.r8, regs.r9};
      __builtin_memcpy(out + 16, args, sizeof args);
    } else {
      __builtin_memcpy(out + 16, &ret, 8);
    }
    return size;
  }
  // Linux 6.1's syscall events record inside the tracepoint's preemption-off section and,
  // unlike ordinary events, do not subtract it: their lines show "...1." (tracefs.txt).
  out[3] = kSyscallEventPreemptCount;
  auto nr = static_cast<int32_t>(id);
  __builtin_memcpy(out + 8, &nr, 4);
  if (enter) {
    const uint64_t args[6] = {regs.di, regs.si, regs.dx, regs.r10, regs.r8, regs.r9};
    for (uint32_t i = 0; 16 + 8 * (i + 1) <= size && i < 6; ++i) {
      __builtin_memcpy(out + 16 + 8 * i, &args[i], 8);
    }
  } else {
    __builtin_memcpy(out + 16, &ret, 8);
  }
  return size;
}

void SyscallTracepoints::Hook::on_hit(const PtRegs& regs, uint64_t, TracedMemory& memory) {
  owner->hit(enter, regs, memory);
}

void SyscallTracepoints::hit(bool enter, const PtRegs& probe_regs, TracedMemory& memory) {
  // trace_sys_enter(const struct pt_regs *regs, long id) / trace_sys_exit(regs, long ret).
  // Every system call hits while any syscall event or program is armed: first, cheaply,
  // whether anything wants this one (the number is the enter hook's second argument and the
  // exit hook's third), before pt_regs is read from the POSIX server.
  bool wanted = enabled_[enter] > 0;
  long hook_id = static_cast<long>(enter ? probe_regs.si : probe_regs.dx);
  for (uint32_t i = 0; i < armed_end_ && !wanted; ++i) {
    const Armed& armed = armed_[i];
    wanted = armed.probe != 0 && armed.enter == enter &&
             (armed.raw || armed.nr == -1 || armed.nr == hook_id);
  }
  if (!wanted) return;
  // The syscall thread builds pt_regs at a few places of its stack: those pages stay borrowed.
  if (pinned_regs_ < kPinnedRegs && !kprobes_.memory().pinned(probe_regs.di, sizeof(PtRegs)) &&
      kprobes_.memory().pin(probe_regs.di, sizeof(PtRegs))) {
    ++pinned_regs_;
  }
  PtRegs regs;
  if (!memory.read(&regs, probe_regs.di, sizeof regs)) return;
  long id = static_cast<long>(regs.orig_ax);
  long ret = static_cast<long>(probe_regs.si);
  CurrentTaskView task = read_current_task();
  alignas(8) uint8_t record[128];

  // Linux's syscall events share one probe on the sys_enter (sys_exit) tracepoint, registered
  // when the first of them is enabled; raw_syscalls' event has its own. Probes run in the order
  // they were registered, so the two kinds of lines come in the order they were enabled.
  EventRegistry& events = tracefs_.events();
  uint64_t raw_order = 0;
  uint64_t syscalls_order = 0;
  for (size_t i = 0; i < events.size() && enabled_[enter] > 0; ++i) {
    const Event& event = events.at(i);
    if (!event.enabled || !is_syscall_event(event) || is_enter_event(event) != enter) continue;
    uint64_t& order = event.source == EventSource::kBuiltin ? raw_order : syscalls_order;
    if (order == 0 || event.enabled_order < order) order = event.enabled_order;
  }
  bool raw_first = raw_order != 0 && (syscalls_order == 0 || raw_order < syscalls_order);
  const bool kinds[2] = {raw_first, !raw_first};
  for (bool raw : kinds) {
    for (size_t i = 0; i < events.size() && enabled_[enter] > 0; ++i) {
      Event& event = events.at(i);
      if (!event.enabled || !is_syscall_event(event) || is_enter_event(event) != enter) continue;
      if ((event.source == EventSource::kBuiltin) != raw) continue;
      if (event.record_size() > sizeof record) continue;
      if (!raw && event.syscall_nr != id) continue;
      uint32_t size = build(event, enter, id, ret, regs, task.pid, record);
      TraceContext context;
      context.timestamp_ns = sys::clock_ns();
      context.cpu = task.cpu;
      context.pid = task.pid;
      for (int c = 0; c < 16; ++c) context.comm[c] = task.comm[c];
      if (!raw) context.preempt_count = kSyscallEventPreemptCount;
      tracefs_.record_event(event, context, record, size);
    }
  }

  if (table_ == nullptr) return;
  for (uint32_t a = 0; a < armed_end_; ++a) {
    const Armed& armed = armed_[a];
    if (armed.probe == 0 || armed.enter != enter) continue;
    ProbeHit hit;
    hit.cpu = task.cpu;
    hit.pid = task.pid;
    if (armed.raw) {
      uint64_t arguments[2] = {probe_regs.di,
                               enter ? static_cast<uint64_t>(id) : static_cast<uint64_t>(ret)};
      hit.context = arguments;
      hit.size = sizeof arguments;
      (void)table_->report_hit(armed.probe, hit);
      continue;
    }
    if (armed.nr != -1 && armed.nr != id) continue;
    const Event* event = armed.event_object;
    if (event == nullptr || event->record_size() > sizeof record) continue;
    if (event->source != EventSource::kBuiltin && event->syscall_nr != id) continue;
    uint32_t size = build(*event, enter, id, ret, regs, task.pid, record);
    hit.context = record;
    hit.size = size;
    (void)table_->report_hit(armed.probe, hit);
  }
}

}  // namespace trace
