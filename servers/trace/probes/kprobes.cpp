// SPDX-License-Identifier: MIT
// Kprobes: Bind, Insert and Remove on Breakpoint objects, and the hit dispatch.
#include "kprobes.hpp"

#include "rt/errno.hpp"
#include "sys/ipc.hpp"
#include "sys/server_memory.hpp"

namespace trace {

namespace {
namespace abi = sonde::abi;
constexpr uint64_t kEntryNopLength = 5;  // -fpatchable-function-entry=5
}  // namespace

PtRegs pt_regs_from(const abi::UserRegisters& r) {
  PtRegs regs{};
  regs.r15 = r.r15;
  regs.r14 = r.r14;
  regs.r13 = r.r13;
  regs.r12 = r.r12;
  regs.bp = r.rbp;
  regs.bx = r.rbx;
  regs.r11 = r.r11;
  regs.r10 = r.r10;
  regs.r9 = r.r9;
  regs.r8 = r.r8;
  regs.ax = r.rax;
  regs.cx = r.rcx;
  regs.dx = r.rdx;
  regs.si = r.rsi;
  regs.di = r.rdi;
  regs.orig_ax = ~uint64_t{0};
  regs.ip = r.rip;
  regs.cs = 0x33;  // the user code segment the POSIX server runs in
  regs.flags = r.rflags;
  regs.sp = r.rsp;
  regs.ss = 0x2b;
  return regs;
}

Kprobes::Probe* Kprobes::find(uint64_t address) {
  for (Probe& probe : probes_) {
    if (probe.address == address) return &probe;
  }
  return nullptr;
}

rt::Result<void> Kprobes::attach(uint64_t address, KprobeClient* client) {
  if (address == 0) return rt::err(rt::kEINVAL);
  Probe* probe = find(address);
  if (probe == nullptr) {
    probe = find(0);
    if (probe == nullptr) return rt::err(rt::kENOSPC, "too many kprobes");
    uint64_t index = static_cast<uint64_t>(probe - probes_);
    uint64_t breakpoint = TRY(sys::server::make_object(abi::ObjectType::kBreakpoint));
    auto badged = sys::server::allocate_slot();
    if (!badged.ok()) {
      (void)sys::cnode_delete(sys::kServerSlotCNode, breakpoint);
      sys::server::free_slot(breakpoint);
      return badged.error();
    }
    abi::Error e = sys::cnode_mint(sys::kServerSlotCNode, badged.value(), endpoint_,
                                   abi::kRightWrite, kFirstBadge + index);
    uint64_t bind[] = {vspace_, badged.value()};
    if (e == abi::Error::kNone) e = sys::invoke(breakpoint, abi::Label::kBreakpointBind, bind);
    uint64_t insert[] = {address, kEntryNopLength, 0, 0};
    if (e == abi::Error::kNone) e = sys::invoke(breakpoint, abi::Label::kBreakpointInsert, insert);
    if (e != abi::Error::kNone) {
      (void)sys::cnode_delete(sys::kServerSlotCNode, breakpoint);
      (void)sys::cnode_delete(sys::kServerSlotCNode, badged.value());
      sys::server::free_slot(breakpoint);
      sys::server::free_slot(badged.value());
      return rt::err(rt::kEINVAL, "the kernel refused the breakpoint");
    }
    probe->address = address;
    probe->breakpoint = breakpoint;
    probe->badged_endpoint = badged.value();
    probe->client_count = 0;
  }
  for (uint32_t i = 0; i < probe->client_count; ++i) {
    if (probe->clients[i] == client) return {};
  }
  if (probe->client_count == kMaxClients) return rt::err(rt::kENOSPC, "too many probe clients");
  probe->clients[probe->client_count++] = client;
  return {};
}

void Kprobes::disarm(Probe& probe) {
  uint64_t remove[] = {probe.address};
  (void)sys::invoke(probe.breakpoint, abi::Label::kBreakpointRemove, remove);
  (void)sys::cnode_delete(sys::kServerSlotCNode, probe.breakpoint);
  (void)sys::cnode_delete(sys::kServerSlotCNode, probe.badged_endpoint);
  sys::server::free_slot(probe.breakpoint);
  sys::server::free_slot(probe.badged_endpoint);
  probe = Probe{};
}

void Kprobes::detach(uint64_t address, KprobeClient* client) {
  Probe* probe = find(address);
  if (probe == nullptr || address == 0) return;
  for (uint32_t i = 0; i < probe->client_count; ++i) {
    if (probe->clients[i] != client) continue;
    probe->clients[i] = probe->clients[--probe->client_count];
    break;
  }
  if (probe->client_count == 0) disarm(*probe);
}

void Kprobes::hit(uint64_t badge, const abi::UserRegisters& registers, uint64_t address) {
  if (!handles(badge)) return;
  Probe& probe = probes_[badge - kFirstBadge];
  if (probe.address == 0 || probe.address != address) return;  // a late hit of a removed probe
  ++hits_;
  PtRegs regs = pt_regs_from(registers);
  if (observer_ != nullptr) observer_->hit_begins(memory_);
  for (uint32_t i = 0; i < probe.client_count; ++i) {
    probe.clients[i]->on_hit(regs, address, memory_);
  }
  if (observer_ != nullptr) observer_->hit_ends();
  memory_.release();
}

}  // namespace trace
