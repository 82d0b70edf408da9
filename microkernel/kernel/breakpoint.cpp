// SPDX-License-Identifier: MIT
// Breakpoint objects: insert and remove int3s, deliver hits, step displaced instructions.
#include "kernel/breakpoint.hpp"

#include "arch/x86_64/cpu.hpp"
#include "elf/elf64.hpp"
#include "kernel/cap_invocation.hpp"
#include "kernel/cdt.hpp"
#include "kernel/cnode.hpp"
#include "kernel/endpoint.hpp"
#include "kernel/fault.hpp"
#include "kernel/memory.hpp"
#include "kernel/message.hpp"
#include "kernel/notification.hpp"
#include "kernel/page_table.hpp"
#include "kernel/panic.hpp"
#include "kernel/scheduler.hpp"
#include "kernel/smp.hpp"
#include "kernel/tcb.hpp"
#include "kernel/vspace.hpp"
#include "sonde/abi/ipc.hpp"
#include "sonde/abi/objects.hpp"

namespace kernel {

namespace abi = sonde::abi;
using abi::Label;

static_assert(sizeof(Breakpoint) <= (1u << abi::kBreakpointBits));

extern "C" char kernel_text_start[];
extern "C" char kernel_text_end[];

namespace {

constexpr uint8_t kInt3 = 0xcc;
constexpr uint64_t kEntryNopLength = 5;
constexpr uint8_t kCallOpcode = 0xe8;

// Breakpoints bound to kernel text, and the kernel probes removed last (see breakpoint_trap).
Breakpoint* kernel_breakpoints = nullptr;
uint64_t kernel_removed[16];
uint32_t kernel_removed_next = 0;

// Kernel text is read-only through its own mapping; the direct map reaches the same bytes.
uint8_t* kernel_code_byte(uint64_t address) {
  return static_cast<uint8_t*>(physical_to_virtual(address - kKernelBase));
}

bool in_kernel_text(uint64_t address, uint64_t length) {
  auto start = reinterpret_cast<uint64_t>(kernel_text_start);
  auto end = reinterpret_cast<uint64_t>(kernel_text_end);
  return address >= start && address < end && end - address >= length;
}

// The 5-byte NOP -fpatchable-function-entry puts at every function entry (nopl d8(%rax,%rax)):
// a byte comparison, not instruction decoding.
bool is_entry_nop(const uint8_t* code) {
  return code[0] == 0x0f && code[1] == 0x1f && code[2] == 0x44 && code[3] == 0x00;
}
constexpr uint64_t kTrapFlag = 1u << 8;

PageTable vspace_table(uintptr_t vspace) { return PageTable(frame_source(), vspace_root(vspace)); }

// The kernel's view of the code byte at `address` in `vspace` (it writes through the direct
// map, so read-only user code can be patched); null when the page is not mapped for the user.
uint8_t* code_byte(uintptr_t vspace, uint64_t address) {
  uint64_t physical = 0, flags = 0;
  if (!vspace_table(vspace).translate(address, &physical, &flags)) return nullptr;
  if ((flags & page::kUser) == 0) return nullptr;
  return static_cast<uint8_t*>(physical_to_virtual(physical));
}

// The byte to patch for a probe at `address`: only in a page `vspace` maps executable and
// owns (not one borrowed from another VSpace), so a probe never writes into data. The physical
// page goes to `page_frame`. Every VSpace that maps the same frame sees the int3 (no
// copy-on-write of code in the kernel): a pager that shares code frames gives a process its
// own copy before probing it (docs/SECURITY.md).
uint8_t* probe_byte(uintptr_t vspace, uint64_t address, uint32_t& page_frame) {
  uint64_t physical = 0, flags = 0;
  if (!vspace_table(vspace).translate(address, &physical, &flags)) return nullptr;
  if ((flags & page::kUser) == 0 || (flags & page::kNoExecute) != 0 ||
      (flags & page::kBorrowed) != 0) {
    return nullptr;
  }
  page_frame = static_cast<uint32_t>(physical >> 12);
  return static_cast<uint8_t*>(physical_to_virtual(physical));
}

bool executable(uintptr_t vspace, uint64_t address) {
  uint64_t physical = 0, flags = 0;
  return vspace_table(vspace).translate(address, &physical, &flags) && (flags & page::kUser) != 0 &&
         (flags & page::kNoExecute) == 0;
}

// Code bytes just written become what every CPU runs: CPUs with the VSpace loaded take a TLB
// request (an IPI, whose return to the interrupted code serializes it) and are waited for;
// the others serialize when they load it (a CR3 write). This CPU snoops its own writes.
void sync_code(uintptr_t vspace) { shootdown(vspace_root(vspace), false); }

// Replaces the 5 bytes at `code` (a call probe's entry NOP or call) while other CPUs may be
// running them, as Intel's cross-modifying code protocol asks (Linux's text_poke_bp): an int3
// over the first byte, then the other four, then the first; a CPU that fetches the int3 in
// between traps (and the trap waits for the kernel lock this runs under).
void rewrite_entry(uintptr_t vspace, uint8_t* code, const uint8_t (&bytes)[kEntryNopLength]) {
  code[0] = kInt3;
  sync_code(vspace);
  for (uint64_t i = 1; i < kEntryNopLength; ++i) code[i] = bytes[i];
  sync_code(vspace);
  code[0] = bytes[0];
  sync_code(vspace);
}

Probe* find_in(Breakpoint* breakpoint, uint64_t address) {
  for (Probe& probe : breakpoint->probes) {
    if (probe.in_use && probe.address == address) return &probe;
  }
  return nullptr;
}

Probe* find_probe(uintptr_t vspace, uint64_t address, Breakpoint** owner) {
  VSpaceInfo* info = vspace_info(vspace);
  if (info->hit_probe != nullptr && info->hit_address == address &&
      info->hit_removals == info->removed_next) {
    if (owner != nullptr) *owner = info->hit_owner;
    return info->hit_probe;
  }
  for (Breakpoint* b = info->breakpoints; b != nullptr; b = b->next) {
    if (Probe* probe = find_in(b, address)) {
      if (owner != nullptr) *owner = b;
      info->hit_probe = probe;
      info->hit_owner = b;
      info->hit_address = address;
      info->hit_removals = info->removed_next;
      return probe;
    }
  }
  return nullptr;
}

void remove_kernel_probe(Probe& probe) {
  uint8_t* byte = kernel_code_byte(probe.address);
  if (*byte == kInt3) *byte = probe.original;
  kernel_removed[kernel_removed_next++ % 16] = probe.address + 1;
  probe = Probe{};
}

void remove_probe(uintptr_t vspace, Probe& probe) {
  if (vspace != 0) {
    VSpaceInfo* info = vspace_info(vspace);
    info->removed[info->removed_next++ % 16] = probe.address + 1;  // + 1: 0 means empty
    // Restore only where the int3 went: if the page was unmapped or replaced since, the
    // byte now at the address belongs to someone else's memory.
    uint64_t physical = 0;
    if (vspace_table(vspace).translate(probe.address, &physical, nullptr) &&
        physical >> 12 == probe.page_frame) {
      auto* byte = static_cast<uint8_t*>(physical_to_virtual(physical));
      if (probe.in_use == kCallProbe) {
        // The entry NOP back: nopl d8(%rax,%rax,1), whose d8 the probe kept.
        const uint8_t nop[kEntryNopLength] = {0x0f, 0x1f, 0x44, 0x00, probe.original};
        if (*byte == kCallOpcode || *byte == kInt3) rewrite_entry(vspace, byte, nop);
      } else if (*byte == kInt3) {
        *byte = probe.original;
      }
    }
  }
  probe = Probe{};
}

void remove_all(Breakpoint* breakpoint) {
  uintptr_t vspace = vspace_from_tag(breakpoint->vspace_tag);
  for (Probe& probe : breakpoint->probes) {
    if (!probe.in_use) continue;
    if (breakpoint->kernel) {
      remove_kernel_probe(probe);
    } else {
      remove_probe(vspace, probe);
    }
  }
}

void unlink(Breakpoint* breakpoint) {
  if (breakpoint->kernel) {
    if (breakpoint->previous != nullptr) {
      breakpoint->previous->next = breakpoint->next;
    } else if (kernel_breakpoints == breakpoint) {
      kernel_breakpoints = breakpoint->next;
    }
    if (breakpoint->next != nullptr) breakpoint->next->previous = breakpoint->previous;
    breakpoint->next = breakpoint->previous = nullptr;
    breakpoint->kernel = 0;
    return;
  }
  uintptr_t vspace = vspace_from_tag(breakpoint->vspace_tag);
  if (vspace != 0) {
    VSpaceInfo* info = vspace_info(vspace);
    if (breakpoint->previous != nullptr) {
      breakpoint->previous->next = breakpoint->next;
    } else if (info->breakpoints == breakpoint) {
      info->breakpoints = breakpoint->next;
    }
    if (breakpoint->next != nullptr) breakpoint->next->previous = breakpoint->previous;
    ++info->removed_next;  // find_probe's remembered answer may be one of its probes
  }
  breakpoint->next = breakpoint->previous = nullptr;
  breakpoint->vspace_tag = 0;
}

uintptr_t thread_vspace(const Tcb* thread) {
  return thread->vspace.empty() ? 0 : thread->vspace.cap.object;
}

uint64_t& user_register(Tcb* thread, uint8_t index) {
  arch::TrapFrame& r = thread->regs;
  switch (index) {
    case 1: return r.rsp;
    case 3: return r.rax;
    case 4: return r.rbx;
    case 5: return r.rcx;
    case 6: return r.rdx;
    case 7: return r.rsi;
    case 8: return r.rdi;
    case 9: return r.rbp;
    case 10: return r.r8;
    case 11: return r.r9;
    case 12: return r.r10;
    case 13: return r.r11;
    case 14: return r.r12;
    case 15: return r.r13;
    case 16: return r.r14;
    default: return r.r15;
  }
}

// Fix-up registers: general registers only (not rip, rflags or fs base).
bool valid_fixup(uint64_t index) { return index == 0 || index == 1 || (index >= 3 && index <= 17); }

void end_step(Tcb* thread) {
  thread->stepping = false;
  thread->regs.rflags &= ~kTrapFlag;
  if (thread->step_saved_trap_flag) thread->regs.rflags |= kTrapFlag;
  if (thread->probe_fixup != 0) {
    user_register(thread, thread->probe_fixup) = thread->step_saved_register;
  }
}

// A checked Breakpoint invocation, ready to run.
struct BreakpointOperation {
  Label label = Label::kInvalid;
  Breakpoint* breakpoint = nullptr;
  // Bind: the VSpace (by tag) and the endpoint; BindKernel: the notification and ring frame.
  uint32_t vspace_tag = 0;
  uintptr_t vspace = 0;
  Slot* endpoint = nullptr;
  uint64_t flags = 0;
  Slot* notification = nullptr;
  Slot* ring = nullptr;
  // Insert: the free probe to fill and the code byte to patch; Remove: the probe.
  Probe* probe = nullptr;
  Probe value{};
  uint8_t* byte = nullptr;
  uint8_t call[kEntryNopLength] = {};  // a call probe's bytes
};

// Rebinding a breakpoint with probes in place would orphan its int3s.
bool has_probes(const Breakpoint* breakpoint) {
  for (const Probe& probe : breakpoint->probes) {
    if (probe.in_use) return true;
  }
  return false;
}

Error decode_bind(const Capability& cspace_root, const Invocation& invocation,
                  BreakpointOperation& operation) {
  namespace m = abi::breakpoint_message;
  if (invocation.word_count < m::kBindLength) return Error::kTruncatedMessage;
  if (has_probes(operation.breakpoint)) return Error::kIllegalOperation;
  Slot* vspace = nullptr;
  Error error = lookup_cap_argument(cspace_root, invocation.words[m::kVSpace], ObjectType::kVSpace,
                                    abi::kRightWrite, vspace);
  if (error != Error::kNone) return error;
  operation.vspace_tag = vspace_tag(vspace->cap.object);
  if (operation.vspace_tag == 0) return Error::kNotEnoughMemory;
  operation.vspace = vspace->cap.object;
  if (invocation.word_count > m::kBindFlags) operation.flags = invocation.words[m::kBindFlags];
  if ((operation.flags & ~m::kBindToThread) != 0) return Error::kInvalidArgument;
  return lookup_cap_argument(cspace_root, invocation.words[m::kEndpoint], ObjectType::kEndpoint,
                             abi::kRightWrite, operation.endpoint);
}

void invoke_bind(const BreakpointOperation& operation) {
  Breakpoint* breakpoint = operation.breakpoint;
  Slot* endpoint = operation.endpoint;
  unlink(breakpoint);
  Slot scratch;
  bool had_endpoint = !breakpoint->endpoint.empty();
  if (had_endpoint) cdt_move(&breakpoint->endpoint, &scratch);
  // The breakpoint only sends: its copy has no Read right and never counts as a receiver.
  Capability send_only = endpoint->cap;
  send_only.rights &= abi::kRightWrite;
  cdt_insert(endpoint, &breakpoint->endpoint, send_only);
  if (had_endpoint) delete_cap(&scratch);
  VSpaceInfo* info = vspace_info(operation.vspace);
  breakpoint->vspace_tag = operation.vspace_tag;
  breakpoint->to_thread = (operation.flags & abi::breakpoint_message::kBindToThread) != 0;
  breakpoint->next = info->breakpoints;
  if (info->breakpoints != nullptr) info->breakpoints->previous = breakpoint;
  info->breakpoints = breakpoint;
}

// Replaces the cap in one of the object's own slots by a copy of the cap in `source` (made
// as Copy makes it: a Frame copy carries no mapping, so deleting it unmaps nothing).
void install(Slot* own, Slot* source) {
  Capability copy;
  if (derive_cap(*source, false, abi::kRightsAll, 0, true, copy) != Error::kNone)
    copy = source->cap;
  Slot scratch;
  bool had = !own->empty();
  if (had) cdt_move(own, &scratch);
  cdt_insert_copy(source, own, copy);
  if (had) delete_cap(&scratch);
}

Error decode_bind_kernel(const Capability& cspace_root, const Invocation& invocation,
                         BreakpointOperation& operation) {
  namespace m = abi::breakpoint_message;
  if (invocation.word_count < m::kBindKernelLength) return Error::kTruncatedMessage;
  if (has_probes(operation.breakpoint)) return Error::kIllegalOperation;
  Slot* authority = nullptr;
  Error error = lookup_cap_argument(cspace_root, invocation.words[m::kKernelProbes],
                                    ObjectType::kKernelProbes, 0, authority);
  if (error != Error::kNone) return error;
  Slot* ring = nullptr;
  error = lookup_cap_argument(cspace_root, invocation.words[m::kRingFrame], ObjectType::kFrame, 0,
                              ring);
  if (error != Error::kNone) return error;
  if (ring->cap.size_bits != abi::kFrameSmallBits) return Error::kWrongType;
  if (!has_rights(ring->cap, abi::kRightWrite)) return Error::kMissingRight;
  operation.ring = ring;
  return lookup_cap_argument(cspace_root, invocation.words[m::kNotification],
                             ObjectType::kNotification, abi::kRightWrite, operation.notification);
}

void invoke_bind_kernel(const BreakpointOperation& operation) {
  Breakpoint* breakpoint = operation.breakpoint;
  unlink(breakpoint);
  install(&breakpoint->endpoint, operation.notification);
  install(&breakpoint->ring, operation.ring);
  auto* samples = reinterpret_cast<abi::SampleRing*>(breakpoint->ring.cap.object);
  samples->head = 0;
  samples->tail = 0;
  samples->dropped = 0;
  samples->capacity = sizeof(samples->records) / sizeof(samples->records[0]);
  breakpoint->kernel = 1;
  breakpoint->next = kernel_breakpoints;
  if (kernel_breakpoints != nullptr) kernel_breakpoints->previous = breakpoint;
  kernel_breakpoints = breakpoint;
}

Probe* free_probe_of(Breakpoint* breakpoint) {
  for (Probe& probe : breakpoint->probes) {
    if (!probe.in_use) return &probe;
  }
  return nullptr;
}

Probe* find_kernel_probe(uint64_t address, Breakpoint** owner) {
  for (Breakpoint* b = kernel_breakpoints; b != nullptr; b = b->next) {
    if (Probe* probe = find_in(b, address)) {
      if (owner != nullptr) *owner = b;
      return probe;
    }
  }
  return nullptr;
}

Error decode_insert_kernel(uint64_t address, uint64_t length, uint64_t xol, uint64_t fixup,
                           BreakpointOperation& operation) {
  if (length != kEntryNopLength || xol != 0 || fixup != 0) return Error::kInvalidArgument;
  if (!in_kernel_text(address, kEntryNopLength)) return Error::kInvalidArgument;
  uint8_t* code = kernel_code_byte(address);
  if (find_kernel_probe(address, nullptr) != nullptr) return Error::kAlreadyMapped;
  // Only where a function starts (the build's symbol table), and only on its entry NOP: the
  // same bytes elsewhere could be the middle of another instruction.
  const elf::SymbolTable* symbols = kernel_symbol_table();
  if (symbols == nullptr || !symbols->is_function_start(address)) return Error::kInvalidArgument;
  if (!is_entry_nop(code)) return Error::kInvalidArgument;
  operation.probe = free_probe_of(operation.breakpoint);
  if (operation.probe == nullptr) return Error::kNotEnoughMemory;
  operation.value = Probe{address, 0, *code, static_cast<uint8_t>(kEntryNopLength), 0, 1, 0};
  operation.byte = code;
  return Error::kNone;
}

// A call probe's extra checks (its Probe and byte are decoded as an int3's): the whole entry
// NOP in one page, a target the VSpace maps executable, a rel32 that reaches it.
Error decode_call(uintptr_t vspace, uint64_t target, BreakpointOperation& operation) {
  Probe& probe = operation.value;
  if (probe.length != kEntryNopLength || probe.xol != 0 || probe.fixup != 0)
    return Error::kInvalidArgument;
  if ((probe.address & (page::kSize - 1)) > page::kSize - kEntryNopLength)
    return Error::kInvalidArgument;
  if (!is_entry_nop(operation.byte)) return Error::kInvalidArgument;
  if (target >= page::kUserTop || !executable(vspace, target)) return Error::kNotMapped;
  int64_t displacement =
      static_cast<int64_t>(target) - static_cast<int64_t>(probe.address + kEntryNopLength);
  if (displacement < INT32_MIN || displacement > INT32_MAX) return Error::kRangeError;
  operation.call[0] = kCallOpcode;
  auto rel32 = static_cast<uint32_t>(static_cast<int32_t>(displacement));
  for (uint64_t i = 0; i < 4; ++i) operation.call[1 + i] = static_cast<uint8_t>(rel32 >> (8 * i));
  probe.in_use = kCallProbe;
  probe.original = operation.byte[4];  // the NOP's displacement (its first byte is 0x0f)
  return Error::kNone;
}

Error decode_insert(const Invocation& invocation, BreakpointOperation& operation) {
  namespace m = abi::breakpoint_message;
  Breakpoint* breakpoint = operation.breakpoint;
  if (invocation.word_count < m::kInsertLength) return Error::kTruncatedMessage;
  if (breakpoint->kernel) {
    if (invocation.word_count > m::kCallTarget && invocation.words[m::kCallTarget] != 0)
      return Error::kInvalidArgument;  // kernel text takes int3s only
    return decode_insert_kernel(invocation.words[m::kAddress], invocation.words[m::kLength],
                                invocation.words[m::kXol], invocation.words[m::kFixupRegister],
                                operation);
  }
  uintptr_t vspace = vspace_from_tag(breakpoint->vspace_tag);
  if (vspace == 0) return Error::kIllegalOperation;  // not bound (or its VSpace is gone)
  uint64_t address = invocation.words[m::kAddress];
  uint64_t length = invocation.words[m::kLength];
  uint64_t xol = invocation.words[m::kXol];
  uint64_t fixup = invocation.words[m::kFixupRegister];
  if (length == 0 || length > 15) return Error::kRangeError;
  bool no_step = fixup == m::kFixupNoStep;
  if ((!no_step && !valid_fixup(fixup)) || (fixup != 0 && xol == 0)) return Error::kInvalidArgument;
  if (no_step) fixup = kNoStepFixup;
  if (address >= page::kUserTop) return Error::kRangeError;
  uint32_t page_frame = 0;
  uint8_t* byte = probe_byte(vspace, address, page_frame);
  if (byte == nullptr) return Error::kNotMapped;
  if (xol != 0 && (!executable(vspace, xol) || !executable(vspace, xol + length - 1))) {
    return Error::kNotMapped;
  }
  if (find_probe(vspace, address, nullptr) != nullptr) return Error::kAlreadyMapped;
  operation.probe = free_probe_of(breakpoint);
  if (operation.probe == nullptr) return Error::kNotEnoughMemory;
  operation.value =
      Probe{address,    xol,       *byte, static_cast<uint8_t>(length), static_cast<uint8_t>(fixup),
            kInt3Probe, page_frame};
  operation.byte = byte;
  uint64_t target = invocation.word_count > m::kCallTarget ? invocation.words[m::kCallTarget] : 0;
  if (target != 0) return decode_call(vspace, target, operation);
  return Error::kNone;
}

// Checks a Breakpoint invocation on the cap in `slot`; fills `operation` or returns the
// first error.
Error decode_breakpoint_invocation(const Capability& cspace_root, Slot* slot,
                                   const Invocation& invocation, BreakpointOperation& operation) {
  operation = BreakpointOperation{};
  operation.label = invocation.label;
  operation.breakpoint = reinterpret_cast<Breakpoint*>(slot->cap.object);
  if (!has_rights(slot->cap, abi::kRightWrite)) return Error::kMissingRight;
  switch (invocation.label) {
    case Label::kBreakpointBind: return decode_bind(cspace_root, invocation, operation);
    case Label::kBreakpointBindKernel:
      return decode_bind_kernel(cspace_root, invocation, operation);
    case Label::kBreakpointInsert: return decode_insert(invocation, operation);
    case Label::kBreakpointRemove:
      if (invocation.word_count < 1) return Error::kTruncatedMessage;
      operation.probe = find_in(operation.breakpoint, invocation.words[0]);
      if (operation.probe == nullptr) return Error::kNotMapped;
      return Error::kNone;
    default: return Error::kInvalidLabel;
  }
}

// Runs a decoded Breakpoint invocation; cannot fail.
void invoke_breakpoint(const BreakpointOperation& operation) {
  Breakpoint* breakpoint = operation.breakpoint;
  switch (operation.label) {
    case Label::kBreakpointBind: invoke_bind(operation); return;
    case Label::kBreakpointBindKernel: invoke_bind_kernel(operation); return;
    case Label::kBreakpointInsert:
      *operation.probe = operation.value;
      if (operation.value.in_use == kCallProbe) {
        rewrite_entry(vspace_from_tag(breakpoint->vspace_tag), operation.byte, operation.call);
      } else {
        *operation.byte = kInt3;
      }
      return;
    case Label::kBreakpointRemove:
      if (breakpoint->kernel) {
        remove_kernel_probe(*operation.probe);
      } else {
        remove_probe(vspace_from_tag(breakpoint->vspace_tag), *operation.probe);
      }
      return;
    default: return;
  }
}

Error handle_breakpoint_invocation(const Capability& cspace_root, Slot* slot,
                                   const Invocation& invocation) {
  BreakpointOperation operation;
  Error error = decode_breakpoint_invocation(cspace_root, slot, invocation, operation);
  if (error == Error::kNone) invoke_breakpoint(operation);
  return error;
}

}  // namespace

void breakpoint_invocations_init() {
  set_invocation_handler(ObjectType::kBreakpoint, handle_breakpoint_invocation);
}

void breakpoint_destroyed(Breakpoint* breakpoint) {
  remove_all(breakpoint);
  unlink(breakpoint);
}

void breakpoints_vspace_destroyed(uintptr_t vspace) {
  VSpaceInfo* info = vspace_info(vspace);
  while (info->breakpoints != nullptr) {
    Breakpoint* breakpoint = info->breakpoints;
    info->breakpoints = breakpoint->next;
    for (Probe& probe : breakpoint->probes) probe = Probe{};
    ++info->removed_next;  // a thread stopped at one of them looks it up (and finds none)
    info->hit_probe = nullptr;
    breakpoint->next = breakpoint->previous = nullptr;
    breakpoint->vspace_tag = 0;
  }
}

bool kernel_breakpoint_trap(arch::TrapFrame& frame) {
  uint64_t address = frame.rip - 1;
  Breakpoint* owner = nullptr;
  Probe* probe = kernel_lock_held_here() ? find_kernel_probe(address, &owner) : nullptr;
  if (probe == nullptr) {
    // Without the kernel lock (the idle loop, the lock itself) probes cannot be touched
    // safely: the thread of execution passes the NOP unrecorded. A probe removed after the
    // int3 was fetched: the original byte is back.
    if (!in_kernel_text(address, kEntryNopLength)) return false;
    uint8_t* code = kernel_code_byte(address);
    if (*code == kInt3 && !kernel_lock_held_here()) {
      frame.rip = address + kEntryNopLength;
      return true;
    }
    bool recently_removed = false;
    for (uint64_t removed : kernel_removed) recently_removed |= removed == address + 1;
    if (recently_removed && *code != kInt3) {
      frame.rip = address;
      return true;
    }
    return false;
  }
  ++owner->hits;
  if (!owner->ring.empty()) {
    auto* ring = reinterpret_cast<abi::SampleRing*>(owner->ring.cap.object);
    uint64_t capacity = sizeof(ring->records) / sizeof(ring->records[0]);
    uint64_t head = ring->head;
    if (head - ring->tail >= capacity) {
      ring->dropped = ring->dropped + 1;
    } else {
      abi::SampleRecord& record = ring->records[head % capacity];
      record.address = address;
      record.timestamp = arch::read_tsc();
      record.cpu = this_cpu().index;
      record.thread = reinterpret_cast<uint64_t>(this_cpu().current);
      record.rsp = frame.rsp;
      record.rdi = frame.rdi;
      record.rsi = frame.rsi;
      record.rdx = frame.rdx;
      record.rcx = frame.rcx;
      record.r8 = frame.r8;
      record.r9 = frame.r9;
      const auto* stack = reinterpret_cast<const uint64_t*>(frame.rsp);
      for (int i = 0; i < 5; ++i) record.stack[i] = stack[i];
      __atomic_store_n(&ring->head, head + 1, __ATOMIC_RELEASE);
    }
  }
  if (!owner->endpoint.empty()) {
    notification_signal(reinterpret_cast<Notification*>(owner->endpoint.cap.object),
                        owner->endpoint.cap.data);
  }
  frame.rip = address + kEntryNopLength;
  return true;
}

bool breakpoint_trap(Tcb* thread) {
  uintptr_t vspace = thread_vspace(thread);
  if (vspace == 0) return false;
  uint64_t address = thread->regs.rip - 1;
  Breakpoint* owner = nullptr;
  Probe* probe = find_probe(vspace, address, &owner);
  if (probe == nullptr) {
    // A probe removed after this thread fetched its int3 (another CPU, or a probe removed
    // while the thread was preempted on it): the original byte is back, so run it.
    const VSpaceInfo* info = vspace_info(vspace);
    bool recently_removed = false;
    for (uint64_t removed : info->removed) recently_removed |= removed == address + 1;
    uint8_t* byte = code_byte(vspace, address);
    if (recently_removed && byte != nullptr && *byte != kInt3) {
      thread->regs.rip = address;
      return true;
    }
    return false;
  }
  thread->regs.rip = address;
  if (owner->endpoint.empty() ||
      reinterpret_cast<const Endpoint*>(owner->endpoint.cap.object)->receivers == 0) {
    // Nobody can hear this breakpoint any more: its probes go, and the thread runs the
    // original instruction, now back in place.
    remove_all(owner);
    return true;
  }
  ++owner->hits;
  thread->probe_vspace = vspace;
  thread->probe_removals = vspace_info(vspace)->removed_next;
  thread->probe_address = address;
  thread->probe_xol = probe->xol;
  thread->probe_length = probe->length;
  thread->probe_fixup = probe->fixup;
  // kBindToThread: the thread's own fault endpoint, whose badge names it to the handler.
  bool own = owner->to_thread != 0 && !thread->fault_endpoint.empty();
  deliver_fault_to(thread, own ? thread->fault_endpoint.cap : owner->endpoint.cap,
                   abi::FaultKind::kBreakpoint, address,
                   static_cast<uint64_t>(probe - owner->probes));
  return true;
}

// The thread, at its probe's slot, single-steps the copy there.
void start_step(Tcb* thread) {
  if (thread->probe_fixup != 0) {
    uint64_t& reg = user_register(thread, thread->probe_fixup);
    thread->step_saved_register = reg;
    reg = thread->probe_address + thread->probe_length;
  }
  thread->step_saved_trap_flag = (thread->regs.rflags & kTrapFlag) != 0;
  thread->regs.rflags |= kTrapFlag;
  thread->stepping = true;
}

void breakpoint_resume(Tcb* thread) {
  uint64_t address = thread->probe_address;
  uintptr_t vspace = thread_vspace(thread);
  thread->regs.rip = address;
  // A probe removed while the thread waited has its original instruction back in place. No
  // removal in the VSpace since the hit (the common case): it is still there.
  if (vspace == 0) return;
  if ((vspace != thread->probe_vspace ||
       vspace_info(vspace)->removed_next != thread->probe_removals) &&
      find_probe(vspace, address, nullptr) == nullptr) {
    return;
  }
  if (thread->probe_xol == 0) {
    thread->regs.rip = address + thread->probe_length;  // the probe sits on a NOP
    return;
  }
  if (thread->probe_fixup == kNoStepFixup) {
    thread->regs.rip = thread->probe_xol;  // the slot jumps back by itself
    return;
  }
  thread->regs.rip = thread->probe_xol;
  start_step(thread);
}

bool breakpoint_step_done(Tcb* thread) {
  if (!thread->stepping) return false;
  uint64_t rip = thread->regs.rip;
  end_step(thread);
  // Fell through the copy: continue after the original. Anything else (an absolute jump the
  // copy made) stands; relative branches must be emulated by the holder, not stepped.
  if (rip == thread->probe_xol + thread->probe_length) {
    thread->regs.rip = thread->probe_address + thread->probe_length;
  }
  return true;
}

void breakpoint_abort_step(Tcb* thread) {
  if (!thread->stepping) return;
  end_step(thread);
  thread->regs.rip = thread->probe_address;
}

bool breakpoint_pause_step(Tcb* thread) {
  if (!thread->stepping || thread->regs.rip != thread->probe_xol) return false;
  end_step(thread);
  thread->step_paused = true;
  return true;
}

void breakpoint_restep(Tcb* thread) {
  if (!thread->step_paused) return;
  thread->step_paused = false;
  if (thread->regs.rip == thread->probe_xol) start_step(thread);
}

void breakpoint_drop_paused_step(Tcb* thread) {
  if (!thread->step_paused) return;
  thread->step_paused = false;
  if (thread->regs.rip == thread->probe_xol) thread->regs.rip = thread->probe_address;
}

}  // namespace kernel
