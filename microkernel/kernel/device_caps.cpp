// IrqControl, IrqHandler and IoPorts invocations.
#include "kernel/device_caps.hpp"

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/trap_frame.hpp"
#include "kernel/cap_invocation.hpp"
#include "kernel/cdt.hpp"
#include "kernel/cnode.hpp"
#include "kernel/notification.hpp"
#include "sonde/abi/invocations.hpp"

namespace kernel {

namespace abi = sonde::abi;
using abi::Label;

namespace {

constexpr unsigned kIrqLines = 16;
constexpr unsigned kTimerIrq = 0;
constexpr unsigned kCascadeIrq = 2;
// All IoPorts caps name one object, the port space, so narrower caps are its derivations.
constexpr uintptr_t kPortSpace = 1;
constexpr uintptr_t kIrqControlObject = 1;

struct IrqLine {
  bool issued;
  Notification* notification;
  uint64_t badge;
};
IrqLine lines[kIrqLines];

uint16_t first_port(const Capability& cap) { return static_cast<uint16_t>(cap.data); }
uint16_t last_port(const Capability& cap) { return static_cast<uint16_t>(cap.data >> 16); }
uint64_t port_range(uint64_t first, uint64_t last) { return first | (last << 16); }

// The empty slot (index, depth) names in the caller's CSpace.
Error destination_slot(const Capability& cspace_root, uint64_t index, uint64_t depth, Slot*& slot) {
  Error error = resolve_slot(cspace_root, index, depth, slot);
  if (error != Error::kNone) return error;
  return slot->empty() ? Error::kNone : Error::kSlotOccupied;
}

Error invoke_irq_control(const Capability& cspace_root, Slot* slot, const Invocation& invocation) {
  namespace m = abi::device_message;
  if (invocation.label != Label::kIrqControlGet) return Error::kInvalidLabel;
  if (invocation.word_count < m::kIrqGetLength) return Error::kTruncatedMessage;
  if (!has_rights(slot->cap, abi::kRightWrite)) return Error::kMissingRight;
  uint64_t irq = invocation.words[m::kIrq];
  if (irq >= kIrqLines) return Error::kRangeError;
  if (irq == kTimerIrq || irq == kCascadeIrq) return Error::kNotPermitted;
  if (lines[irq].issued) return Error::kIrqInUse;
  Slot* destination = nullptr;
  Error error = destination_slot(cspace_root, invocation.words[m::kIrqIndex],
                                 invocation.words[m::kIrqDepth], destination);
  if (error != Error::kNone) return error;
  lines[irq] = IrqLine{true, nullptr, 0};
  cdt_insert(nullptr, destination, make_cap(ObjectType::kIrqHandler, irq, 0));
  arch::irq_mask(static_cast<unsigned>(irq), true);  // until a notification is bound
  return Error::kNone;
}

Error invoke_irq_handler(const Capability& cspace_root, Slot* slot, const Invocation& invocation) {
  auto irq = static_cast<unsigned>(slot->cap.object);
  if (!has_rights(slot->cap, abi::kRightWrite)) return Error::kMissingRight;
  switch (invocation.label) {
    case Label::kIrqHandlerSetNotification: {
      if (invocation.word_count < 1) return Error::kTruncatedMessage;
      uint64_t cptr = invocation.words[abi::device_message::kNotification];
      if (cptr == 0) {
        lines[irq].notification = nullptr;
        arch::irq_mask(irq, true);
        return Error::kNone;
      }
      Slot* notification = nullptr;
      Error error = lookup_cap_slot(cspace_root, cptr, notification);
      if (error != Error::kNone) return error;
      if (notification->empty()) return Error::kSlotEmpty;
      if (notification->type() != ObjectType::kNotification) return Error::kWrongType;
      if (!has_rights(notification->cap, abi::kRightWrite)) return Error::kMissingRight;
      lines[irq].notification = reinterpret_cast<Notification*>(notification->cap.object);
      lines[irq].badge = notification->cap.data;
      arch::irq_mask(irq, false);
      return Error::kNone;
    }
    case Label::kIrqHandlerAck:
      if (lines[irq].notification != nullptr) arch::irq_mask(irq, false);
      return Error::kNone;
    default:
      return Error::kInvalidLabel;
  }
}

Error invoke_io_ports(const Capability& cspace_root, Slot* slot, const Invocation& invocation) {
  namespace m = abi::device_message;
  const Capability& cap = slot->cap;
  const uint64_t* words = invocation.words;
  if (invocation.label == Label::kIoPortsIssue) {
    if (invocation.word_count < m::kIssueLength) return Error::kTruncatedMessage;
    uint64_t first = words[m::kFirstPort];
    uint64_t last = words[m::kLastPort];
    if (first > last || first < first_port(cap) || last > last_port(cap)) return Error::kRangeError;
    Slot* destination = nullptr;
    Error error = destination_slot(cspace_root, words[m::kIssueIndex], words[m::kIssueDepth], destination);
    if (error != Error::kNone) return error;
    Capability narrower = cap;
    narrower.data = port_range(first, last);
    cdt_insert(slot, destination, narrower);
    return Error::kNone;
  }
  uint64_t width = 0;
  bool out = false;
  switch (invocation.label) {
    case Label::kIoPortsIn8: width = 1; break;
    case Label::kIoPortsIn16: width = 2; break;
    case Label::kIoPortsIn32: width = 4; break;
    case Label::kIoPortsOut8: width = 1; out = true; break;
    case Label::kIoPortsOut16: width = 2; out = true; break;
    case Label::kIoPortsOut32: width = 4; out = true; break;
    default: return Error::kInvalidLabel;
  }
  if (invocation.word_count < (out ? 2u : 1u)) return Error::kTruncatedMessage;
  if (!has_rights(cap, out ? abi::kRightWrite : abi::kRightRead)) return Error::kMissingRight;
  uint64_t port = words[m::kPort];
  if (port < first_port(cap) || port + width - 1 > last_port(cap)) return Error::kRangeError;
  auto p = static_cast<uint16_t>(port);
  if (out) {
    uint64_t value = words[m::kValue];
    if (width == 1) asm volatile("outb %b0, %w1" : : "a"(value), "Nd"(p));
    if (width == 2) asm volatile("outw %w0, %w1" : : "a"(value), "Nd"(p));
    if (width == 4) asm volatile("outl %k0, %w1" : : "a"(value), "Nd"(p));
    return Error::kNone;
  }
  if (invocation.output == nullptr || invocation.output_capacity < 1) return Error::kRangeError;
  uint32_t value = 0;
  if (width == 1) {
    uint8_t v;
    asm volatile("inb %w1, %b0" : "=a"(v) : "Nd"(p));
    value = v;
  } else if (width == 2) {
    uint16_t v;
    asm volatile("inw %w1, %w0" : "=a"(v) : "Nd"(p));
    value = v;
  } else {
    asm volatile("inl %w1, %k0" : "=a"(value) : "Nd"(p));
  }
  invocation.output[0] = value;
  *invocation.output_count = 1;
  return Error::kNone;
}

}  // namespace

void device_invocations_init() {
  set_invocation_handler(ObjectType::kIrqControl, invoke_irq_control);
  set_invocation_handler(ObjectType::kIrqHandler, invoke_irq_handler);
  set_invocation_handler(ObjectType::kIoPorts, invoke_io_ports);
}

Capability irq_control_cap() { return make_cap(ObjectType::kIrqControl, kIrqControlObject, 0); }

Capability io_ports_cap(uint16_t first, uint16_t last) {
  Capability cap = make_cap(ObjectType::kIoPorts, kPortSpace, 0);
  cap.data = port_range(first, last);
  return cap;
}

void device_irq(unsigned irq) {
  if (irq >= kIrqLines) return;
  arch::irq_mask(irq, true);  // until the handler acknowledges (or for good, unhandled)
  if (lines[irq].notification != nullptr) {
    notification_signal(lines[irq].notification, lines[irq].badge);
  }
}

void irq_handler_destroyed(unsigned irq) {
  if (irq >= kIrqLines) return;
  lines[irq] = IrqLine{};
  arch::irq_mask(irq, true);
}

void irq_notification_destroyed(Notification* notification) {
  for (unsigned irq = 0; irq < kIrqLines; ++irq) {
    if (lines[irq].notification == notification) {
      lines[irq].notification = nullptr;
      arch::irq_mask(irq, true);
    }
  }
}

}  // namespace kernel
