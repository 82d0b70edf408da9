// SPDX-License-Identifier: MIT
// Kprobes: Bind, Insert and Remove on Breakpoint objects, and the hit dispatch.
#include "kprobes.hpp"

#include "kernel_probes.hpp"
#include "kprobe_events.hpp"
#include "posix_symbols.hpp"
#include "rt/errno.hpp"
#include "rt/kernel_alias.hpp"
#include "sys/ipc.hpp"
#include "sys/server_memory.hpp"

namespace trace {

namespace {
namespace abi = sonde::abi;
constexpr uint64_t kEntryNopLength = 5;  // -fpatchable-function-entry=5
}  // namespace

Kprobes::Probe* Kprobes::scan(uint64_t address) {
  for (Probe& probe : probes_) {
    if (probe.address == address) return &probe;
  }
  return nullptr;
}

rt::Result<Kprobes::Probe*> Kprobes::arm(uint64_t address, bool as_call) {
  if (address == 0) return rt::err(rt::kEINVAL);
  Probe* probe = find(address);
  if (probe != nullptr) return probe;
  probe = find(0);
  if (probe == nullptr) return rt::err(rt::kENOSPC, "too many kprobes");
  // Inside a function: an int3 whose instruction runs out of line, in a slot that jumps back by
  // itself or that the kernel single-steps.
  uint64_t start = 0;
  int slot = -1;
  uint8_t original = 0;
  uint8_t length = 0;  // the original instruction's
  KprobeSlot code;
  if (inside_function(address, start)) {
    XolPlan plan = TRY(plan_inside(address, start, original));
    for (uint32_t i = 0; i < kXolSlots && slot < 0; ++i) {
      uint32_t candidate = (next_slot_ + i) % kXolSlots;
      if (!slot_used_[candidate]) slot = static_cast<int>(candidate);
    }
    if (slot < 0) return rt::err(rt::kENOSPC, "no out-of-line slot is free");
    code = kprobe_slot(plan, address);
    length = plan.length;
  }
  uint64_t index = static_cast<uint64_t>(probe - probes_);
  uint64_t breakpoint = TRY(sys::server::make_object(abi::ObjectType::kBreakpoint));
  auto badged = sys::server::allocate_slot();
  if (!badged.ok()) {
    (void)sys::cnode_delete(sys::kServerSlotCNode, breakpoint);
    sys::server::free_slot(breakpoint);
    return badged.error();
  }
  abi::Error e = sys::cnode_mint(sys::kServerSlotCNode, badged.value(), endpoint_, abi::kRightWrite,
                                 kFirstBadge + index);
  uint64_t bind[] = {vspace_, badged.value()};
  if (e == abi::Error::kNone) e = sys::invoke(breakpoint, abi::Label::kBreakpointBind, bind);
  bool done = false;
  if (e == abi::Error::kNone && slot >= 0) {
    // The slot is written before the int3 goes in: no hit can step it half written.
    uint64_t xol = xol_page_ + static_cast<uint64_t>(slot) * kKprobeSlotSize;
    volatile uint8_t* here = xol_window_ + static_cast<uint64_t>(slot) * kKprobeSlotSize;
    for (size_t i = 0; i < kKprobeSlotSize; ++i) here[i] = code.bytes[i];
    uint64_t fixup = !code.steps                ? abi::breakpoint_message::kFixupNoStep
                     : code.fixup_register >= 0 ? static_cast<uint64_t>(code.fixup_register)
                                                : 0;
    uint64_t insert[] = {address, length, xol, fixup};
    e = sys::invoke(breakpoint, abi::Label::kBreakpointInsert, insert);
    done = true;
  }
  // A call probe where the kernel takes one (an entry NOP), else an int3.
  if (e == abi::Error::kNone && !done && as_call && returns_.entry_stub != 0) {
    uint64_t insert_call[] = {address, kEntryNopLength, 0, 0, returns_.entry_stub};
    done = sys::invoke(breakpoint, abi::Label::kBreakpointInsert, insert_call) == abi::Error::kNone;
  }
  uint64_t insert[] = {address, kEntryNopLength, 0, 0};
  if (e == abi::Error::kNone && !done)
    e = sys::invoke(breakpoint, abi::Label::kBreakpointInsert, insert);
  if (e != abi::Error::kNone) {
    (void)sys::cnode_delete(sys::kServerSlotCNode, breakpoint);
    (void)sys::cnode_delete(sys::kServerSlotCNode, badged.value());
    sys::server::free_slot(breakpoint);
    sys::server::free_slot(badged.value());
    return rt::err(rt::kEINVAL, "the kernel refused the breakpoint");
  }
  *probe = Probe{};
  probe->address = address;
  probe->breakpoint = breakpoint;
  probe->badged_endpoint = badged.value();
  if (slot >= 0) {
    slot_used_[slot] = true;
    next_slot_ = static_cast<uint32_t>(slot + 1) % kXolSlots;
    probe->slot = static_cast<int16_t>(slot);
    probe->original = original;
  }
  return probe;
}

bool Kprobes::inside_function(uint64_t address, uint64_t& start) const {
  return symbols_ != nullptr && !is_kernel_address(address) &&
         symbols_->function_start(address, start) && start != address;
}

namespace {
// A function decoded from its start to a kprobe inside it (Linux decodes the whole way too).
constexpr uint64_t kMaxInsideOffset = 64 * 1024;
uint8_t function_bytes[kMaxInsideOffset + kMaxInstructionLength];
}  // namespace

rt::Result<XolPlan> Kprobes::plan_inside(uint64_t address, uint64_t start, uint8_t& original) {
  if (xol_window_ == nullptr) {
    return rt::err(rt::kEINVAL, "kprobes here sit on a function's entry NOP only (offset 0)");
  }
  uint64_t offset = address - start;
  if (offset > kMaxInsideOffset) return rt::err(rt::kEINVAL, "more than 64 KiB into a function");
  size_t size = offset + kMaxInstructionLength;
  bool read = memory_.read(function_bytes, start, size);
  memory_.release();
  if (!read) return rt::err(rt::kEINVAL, "the address is not mapped in the POSIX server");
  // Probes armed in the range read as what they replaced: an entry NOP (under an int3 or a
  // call), or an instruction's first byte.
  static constexpr uint8_t kEntryNop[kEntryNopLength] = {0x0f, 0x1f, 0x44, 0x00, 0x08};
  for (const Probe& probe : probes_) {
    if (probe.address < start || probe.address >= start + size || probe.address == 0) continue;
    uint64_t at = probe.address - start;
    if (probe.slot >= 0) {
      function_bytes[at] = probe.original;
    } else {
      for (uint64_t i = 0; i < kEntryNopLength && at + i < size; ++i)
        function_bytes[at + i] = kEntryNop[i];
    }
  }
  uint64_t at = 0;
  while (at < offset) {
    auto length = instruction_length(function_bytes + at, size - at);
    if (!length.ok()) return rt::err(rt::kEILSEQ, "the function does not decode up to the address");
    at += length.value();
  }
  if (at != offset) return rt::err(rt::kEILSEQ, "the address is inside an instruction");
  original = function_bytes[at];
  auto plan = plan_out_of_line(function_bytes + at, size - at, address);
  if (!plan.ok()) return rt::err(rt::kEINVAL, "the instruction cannot run out of line");
  return plan.value();
}

rt::Result<void> Kprobes::check_probe_point(uint64_t address) {
  if (is_kernel_address(address)) return {};
  static constexpr uint8_t kEntryNop[kEntryNopLength] = {0x0f, 0x1f, 0x44, 0x00, 0x08};
  if (find(address) != nullptr) return {};  // armed already (an int3 or a call there now)
  if (symbols_ != nullptr) {
    uint64_t start = 0;
    if (!symbols_->function_start(address, start)) {
      return rt::err(rt::kEILSEQ, "the address is in no POSIX-server function");
    }
    if (start != address) {
      uint8_t original = 0;
      TRY(plan_inside(address, start, original));
      return {};
    }
  }
  uint8_t code[kEntryNopLength] = {};
  bool read = memory_.read(code, address, sizeof code);
  memory_.release();
  if (!read) return rt::err(rt::kEINVAL, "the address is not mapped in the POSIX server");
  for (uint64_t i = 0; i < kEntryNopLength; ++i) {
    if (code[i] != kEntryNop[i]) {
      return rt::err(rt::kEINVAL, "kprobes here sit on a function's entry NOP only (offset 0)");
    }
  }
  return {};
}

bool Kprobes::blacklisted(uint64_t address) const {
  bool found = false;
  each_blacklisted([&](uint64_t start, uint64_t end) {
    if (address >= start && address < (end > start ? end : start + 1)) found = true;
  });
  return found;
}

rt::Result<void> Kprobes::attach(uint64_t address, KprobeClient* client) {
  if (blacklisted(address)) return rt::err(rt::kEINVAL, "the function is on the kprobe blacklist");
  if (is_kernel_address(address)) {
    if (kernel_ == nullptr) return rt::err(rt::kEOPNOTSUPP, "no kernel probes here");
    return kernel_->attach(address, client);
  }
  Probe* probe = TRY(arm(address, !client->is_key()));
  for (uint32_t i = 0; i < probe->client_count; ++i) {
    if (probe->clients[i] == client) return {};
  }
  if (probe->client_count == kMaxClients) {
    release_if_unused(*probe);
    return rt::err(rt::kENOSPC, "too many probe clients");
  }
  probe->clients[probe->client_count++] = client;
  return {};
}

rt::Result<void> Kprobes::attach_return(uint64_t address, KprobeClient* client) {
  // A kernel sample cannot redirect the function's return: no kretprobes on kernel functions.
  if (is_kernel_address(address)) {
    return rt::err(rt::kEOPNOTSUPP, "no return probes on microkernel functions");
  }
  if (returns_.shim == 0 || returns_.trampoline == 0 || returns_.key == 0) {
    return rt::err(rt::kEOPNOTSUPP, "the POSIX server has no return-probe trampoline");
  }
  if (blacklisted(address)) return rt::err(rt::kEINVAL, "the function is on the kprobe blacklist");
  uint64_t start = 0;
  if (inside_function(address, start)) {
    return rt::err(rt::kEINVAL, "a return probe sits on a function's entry");
  }
  if (return_probes_ == 0) {
    Probe* key = TRY(arm(returns_.key, false));
    key->trampoline = true;
  }
  auto armed = arm(address, true);
  if (!armed.ok()) {
    if (return_probes_ == 0) {
      if (Probe* key = find(returns_.key)) disarm(*key);
    }
    return armed.error();
  }
  Probe* probe = armed.value();
  for (uint32_t i = 0; i < probe->return_count; ++i) {
    if (probe->return_clients[i] == client) return {};
  }
  if (probe->return_count == kMaxClients) return rt::err(rt::kENOSPC, "too many probe clients");
  if (probe->return_count == 0) ++return_probes_;
  probe->return_clients[probe->return_count++] = client;
  probe->keeps_arguments = probe->keeps_arguments || client->needs_entry_arguments();
  return {};
}

void Kprobes::release_if_unused(Probe& probe) {
  if (probe.client_count == 0 && probe.return_count == 0 && !probe.trampoline) disarm(probe);
}

void Kprobes::detach_return(uint64_t address, KprobeClient* client) {
  if (is_kernel_address(address)) return;
  Probe* probe = find(address);
  if (probe == nullptr || address == 0) return;
  for (uint32_t i = 0; i < probe->return_count; ++i) {
    if (probe->return_clients[i] != client) continue;
    probe->return_clients[i] = probe->return_clients[--probe->return_count];
    probe->keeps_arguments = false;
    for (uint32_t k = 0; k < probe->return_count; ++k) {
      probe->keeps_arguments =
          probe->keeps_arguments || probe->return_clients[k]->needs_entry_arguments();
    }
    if (probe->return_count == 0 && --return_probes_ == 0) {
      // The trampoline's key goes too: pending returns go through it without a call.
      if (Probe* key = find(returns_.key)) disarm(*key);
    }
    break;
  }
  release_if_unused(*probe);
}

void Kprobes::disarm(Probe& probe) {
  uint64_t remove[] = {probe.address};
  (void)sys::invoke(probe.breakpoint, abi::Label::kBreakpointRemove, remove);
  if (probe.slot >= 0) slot_used_[probe.slot] = false;  // its bytes stay until it is taken again
  (void)sys::cnode_delete(sys::kServerSlotCNode, probe.breakpoint);
  (void)sys::cnode_delete(sys::kServerSlotCNode, probe.badged_endpoint);
  sys::server::free_slot(probe.breakpoint);
  sys::server::free_slot(probe.badged_endpoint);
  probe = Probe{};
}

void Kprobes::detach(uint64_t address, KprobeClient* client) {
  if (is_kernel_address(address)) {
    if (kernel_ != nullptr) kernel_->detach(address, client);
    return;
  }
  Probe* probe = find(address);
  if (probe == nullptr || address == 0) return;
  for (uint32_t i = 0; i < probe->client_count; ++i) {
    if (probe->clients[i] != client) continue;
    probe->clients[i] = probe->clients[--probe->client_count];
    break;
  }
  release_if_unused(*probe);
}

void Kprobes::each_listed(void (*visit)(void* context, uint64_t address, bool is_return),
                          void* context) const {
  for (const Probe& probe : probes_) {
    if (probe.address == 0 || probe.trampoline) continue;
    for (uint32_t i = 0; i < probe.client_count; ++i) {
      if (probe.clients[i]->listed()) visit(context, probe.address, false);
    }
    for (uint32_t i = 0; i < probe.return_count; ++i) {
      if (probe.return_clients[i]->listed()) visit(context, probe.address, true);
    }
  }
}

bool Kprobes::hit(uint64_t badge, abi::UserRegisters& registers, uint64_t address) {
  if (!handles(badge)) return false;
  Probe& probe = probes_[badge - kFirstBadge];
  if (probe.address == 0 || probe.address != address) return false;  // a late hit
  if (probe.trampoline) return false;  // the trampoline's key is never executed
  PtRegs regs = pt_regs_from(registers);
  // Linux's kprobe handlers see ip just past the int3 (its ftrace and optimized kprobes set it
  // so too): a program's PT_REGS_IP is the probed address + 1 (ksnoop subtracts it).
  regs.ip = sonde::abi::kernel_alias(address + 1);  // as Linux programs see it
  if (!run_entry(probe, regs, address)) return false;
  // Into the POSIX server's shim, which records the real return address there and makes the
  // function return through the trampoline.
  registers.r11 = address + kEntryNopLength;
  registers.rip = returns_.shim;
  return true;
}

bool Kprobes::entry_called(uint64_t saved) {
  // The stub laid out a struct pt_regs (ip = the function + 1, sp = the function's entry rsp);
  // above it, the call's return address (the function + 5).
  constexpr uint64_t kReadBytes = sizeof(PtRegs) + 8;
  PtRegs copy;
  const PtRegs* regs = &copy;
  if (const volatile uint64_t* pinned = memory_.pinned_words(saved, kReadBytes)) {
    // Mostly so (the stack pages pin_stack keeps): the programs run on it in place, through
    // the window (read-only here; the POSIX thread waits in its call).
    regs = reinterpret_cast<const PtRegs*>(const_cast<const uint64_t*>(pinned));
  } else if (saved > ~uint64_t{0} - kReadBytes || !memory_.read(&copy, saved, sizeof copy)) {
    memory_.release();
    return false;
  }
  uint64_t address = sonde::abi::server_address(regs->ip) - 1;
  Probe* probe = find(address);
  if (probe == nullptr || address == 0 || probe->trampoline) {
    memory_.release();
    return false;  // removed while the thread was on its way
  }
  return run_entry(*probe, *regs, address);
}

bool Kprobes::run_entry(Probe& probe, const PtRegs& regs, uint64_t address) {
  ++hits_;
  if (crash_at_next_hit_) *reinterpret_cast<volatile uint64_t*>(8) = 0;  // the drill's fault
  bool redirect = false;
  hold_current_task();  // the observer and every client ask for it
  if (observer_ != nullptr)
    observer_->hit_begins(memory_, &regs, HitObserver::HitRegisters::kServerEntry);
  pin_stack(regs.sp);
  for (uint32_t i = 0; i < probe.client_count; ++i)
    probe.clients[i]->on_hit(regs, address, memory_);
  if (probe.return_count > 0) {
    if (probe.keeps_arguments) keep_arguments(probe, regs);
    redirect = true;
  }
  if (observer_ != nullptr) observer_->hit_ends();
  release_current_task();
  memory_.release();
  return redirect;
}

void Kprobes::return_called(uint64_t saved) {
  // The trampoline laid out a struct pt_regs (ip = the real return address, sp = where the
  // function returned to it); the programs run on it in place when its page is pinned.
  PtRegs copy;
  const PtRegs* regs = &copy;
  if (const volatile uint64_t* pinned = memory_.pinned_words(saved, sizeof(PtRegs))) {
    // Mostly so: the block is just below the entry hit's rsp, whose pages pin_stack keeps.
    regs = reinterpret_cast<const PtRegs*>(const_cast<const uint64_t*>(pinned));
  } else if (saved > ~uint64_t{0} - sizeof(PtRegs) || !memory_.read(&copy, saved, sizeof copy)) {
    memory_.release();
    return;
  }
  ++hits_;
  if (crash_at_next_hit_ || crash_at_next_return_) {
    *reinterpret_cast<volatile uint64_t*>(8) = 0;  // the drill's fault
  }
  hold_current_task();
  if (observer_ != nullptr)
    observer_->hit_begins(memory_, regs, HitObserver::HitRegisters::kServerReturn);
  returned(*regs);
  if (observer_ != nullptr) observer_->hit_ends();
  release_current_task();
  memory_.release();
}

void Kprobes::pin_new_stack(uint64_t rsp) {
  if (stack_pins_ < kStackPins && !memory_.pinned(rsp, kStackAbove) &&
      memory_.pin(rsp, kStackAbove)) {
    ++stack_pins_;  // else it is borrowed per hit, as before
  }
  if (memory_.pinned(rsp, kStackAbove)) {
    pinned_stack_low_ = rsp & ~uint64_t{4095};
    pinned_stack_high_ = ((rsp + kStackAbove - 1) | 4095) + 1;
  }
}

// At a call's entry, for its fexit programs: the shim will push the call at the current depth.
void Kprobes::keep_arguments(const Probe& probe, const PtRegs& regs) {
  uint64_t depth = 0;
  if (!read_depth(depth) || depth >= kReturnDepth) return;
  EntryArguments& kept = pending_arguments_[depth];
  kept.function = probe.address;
  const uint64_t values[6] = {regs.di, regs.si, regs.dx, regs.cx, regs.r8, regs.r9};
  for (int i = 0; i < 6; ++i) kept.registers[i] = values[i];
}

void Kprobes::returned(const PtRegs& regs) {
  uint64_t depth = 0;
  if (!read_depth(depth) || depth == 0 || depth > kReturnDepth) return;
  uint64_t return_address = 0, target = 0;
  if (return_words_ != nullptr && function_words_ != nullptr) {
    return_address = return_words_[depth - 1];
    target = function_words_[depth - 1];
  } else if (!memory_.read_word(return_address, returns_.return_addresses + 8 * (depth - 1)) ||
             !memory_.read_word(target, returns_.functions + 8 * (depth - 1))) {
    return;
  }
  uint64_t function = target - kEntryNopLength;
  Probe* probe = find(function);
  if (probe == nullptr) return;  // its return probes went while it ran
  // regs.ip is return_address: the trampoline read it too.
  EntryArguments& kept = pending_arguments_[depth - 1];
  entry_arguments_ = kept.function == function ? kept.registers : nullptr;
  kept.function = 0;  // one return per entry
  for (uint32_t i = 0; i < probe->return_count; ++i) {
    probe->return_clients[i]->on_return(regs, function, return_address, memory_);
  }
  entry_arguments_ = nullptr;
}

}  // namespace trace
