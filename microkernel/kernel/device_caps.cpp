// SPDX-License-Identifier: MIT
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

// A checked IrqControl, IrqHandler or IoPorts invocation, ready to run.
struct DeviceOperation {
  Label label = Label::kInvalid;
  Slot* slot = nullptr;         // the invoked cap (IoPorts Issue: the parent of the new cap)
  unsigned irq = 0;             // IrqControlGet, IrqHandler*
  Slot* destination = nullptr;  // IrqControlGet, IoPortsIssue: the empty slot to fill
  Capability cap;               // IoPortsIssue: the narrower cap
  Notification* notification = nullptr;  // IrqHandlerSetNotification (null: unbind)
  uint64_t badge = 0;
  uint16_t port = 0;  // IoPortsIn*, IoPortsOut*
  uint64_t width = 0;
  uint64_t value = 0;          // IoPortsOut*
  uint64_t* output = nullptr;  // IoPortsIn*
  size_t* output_count = nullptr;
};

// The empty slot (index, depth) names in the caller's CSpace.
Error destination_slot(const Capability& cspace_root, uint64_t index, uint64_t depth, Slot*& slot) {
  Error error = resolve_slot(cspace_root, index, depth, slot);
  if (error != Error::kNone) return error;
  return slot->empty() ? Error::kNone : Error::kSlotOccupied;
}

Error decode_irq_control_invocation(const Capability& cspace_root, Slot* slot,
                                    const Invocation& invocation, DeviceOperation& operation) {
  namespace m = abi::device_message;
  if (invocation.label != Label::kIrqControlGet) return Error::kInvalidLabel;
  if (invocation.word_count < m::kIrqGetLength) return Error::kTruncatedMessage;
  if (!has_rights(slot->cap, abi::kRightWrite)) return Error::kMissingRight;
  uint64_t irq = invocation.words[m::kIrq];
  if (irq >= kIrqLines) return Error::kRangeError;
  if (irq == kTimerIrq || irq == kCascadeIrq) return Error::kNotPermitted;
  if (lines[irq].issued) return Error::kIrqInUse;
  operation = DeviceOperation{};
  operation.label = invocation.label;
  operation.irq = static_cast<unsigned>(irq);
  return destination_slot(cspace_root, invocation.words[m::kIrqIndex],
                          invocation.words[m::kIrqDepth], operation.destination);
}

void invoke_irq_control(const DeviceOperation& operation) {
  lines[operation.irq] = IrqLine{true, nullptr, 0};
  cdt_insert(nullptr, operation.destination, make_cap(ObjectType::kIrqHandler, operation.irq, 0));
  arch::irq_mask(operation.irq, true);  // until a notification is bound
}

Error decode_irq_handler_invocation(const Capability& cspace_root, Slot* slot,
                                    const Invocation& invocation, DeviceOperation& operation) {
  operation = DeviceOperation{};
  operation.label = invocation.label;
  operation.irq = static_cast<unsigned>(slot->cap.object);
  if (!has_rights(slot->cap, abi::kRightWrite)) return Error::kMissingRight;
  switch (invocation.label) {
    case Label::kIrqHandlerSetNotification: {
      if (invocation.word_count < 1) return Error::kTruncatedMessage;
      uint64_t cptr = invocation.words[abi::device_message::kNotification];
      if (cptr == 0) return Error::kNone;
      Slot* notification = nullptr;
      Error error = lookup_cap_argument(cspace_root, cptr, ObjectType::kNotification,
                                        abi::kRightWrite, notification);
      if (error != Error::kNone) return error;
      operation.notification = reinterpret_cast<Notification*>(notification->cap.object);
      operation.badge = notification->cap.data;
      return Error::kNone;
    }
    case Label::kIrqHandlerAck: return Error::kNone;
    default: return Error::kInvalidLabel;
  }
}

void invoke_irq_handler(const DeviceOperation& operation) {
  unsigned irq = operation.irq;
  switch (operation.label) {
    case Label::kIrqHandlerSetNotification:
      lines[irq].notification = operation.notification;
      if (operation.notification == nullptr) {
        arch::irq_mask(irq, true);
        return;
      }
      lines[irq].badge = operation.badge;
      arch::irq_mask(irq, false);
      return;
    case Label::kIrqHandlerAck:
      if (lines[irq].notification != nullptr) arch::irq_mask(irq, false);
      return;
    default: return;
  }
}

Error decode_io_ports_invocation(const Capability& cspace_root, Slot* slot,
                                 const Invocation& invocation, DeviceOperation& operation) {
  namespace m = abi::device_message;
  const Capability& cap = slot->cap;
  const uint64_t* words = invocation.words;
  operation = DeviceOperation{};
  operation.label = invocation.label;
  operation.slot = slot;
  if (invocation.label == Label::kIoPortsIssue) {
    if (invocation.word_count < m::kIssueLength) return Error::kTruncatedMessage;
    uint64_t first = words[m::kFirstPort];
    uint64_t last = words[m::kLastPort];
    if (first > last || first < first_port(cap) || last > last_port(cap)) return Error::kRangeError;
    Error error = destination_slot(cspace_root, words[m::kIssueIndex], words[m::kIssueDepth],
                                   operation.destination);
    if (error != Error::kNone) return error;
    operation.cap = cap;
    operation.cap.data = port_range(first, last);
    return Error::kNone;
  }
  bool out = false;
  switch (invocation.label) {
    case Label::kIoPortsIn8: operation.width = 1; break;
    case Label::kIoPortsIn16: operation.width = 2; break;
    case Label::kIoPortsIn32: operation.width = 4; break;
    case Label::kIoPortsOut8:
      operation.width = 1;
      out = true;
      break;
    case Label::kIoPortsOut16:
      operation.width = 2;
      out = true;
      break;
    case Label::kIoPortsOut32:
      operation.width = 4;
      out = true;
      break;
    default: return Error::kInvalidLabel;
  }
  if (invocation.word_count < (out ? 2u : 1u)) return Error::kTruncatedMessage;
  if (!has_rights(cap, out ? abi::kRightWrite : abi::kRightRead)) return Error::kMissingRight;
  uint64_t port = words[m::kPort];
  if (port < first_port(cap) || port + operation.width - 1 > last_port(cap)) {
    return Error::kRangeError;
  }
  operation.port = static_cast<uint16_t>(port);
  if (out) {
    operation.value = words[m::kValue];
    return Error::kNone;
  }
  if (invocation.output == nullptr || invocation.output_capacity < 1) return Error::kRangeError;
  operation.output = invocation.output;
  operation.output_count = invocation.output_count;
  return Error::kNone;
}

void invoke_io_ports(const DeviceOperation& operation) {
  uint16_t p = operation.port;
  uint64_t width = operation.width;
  switch (operation.label) {
    case Label::kIoPortsIssue:
      cdt_insert(operation.slot, operation.destination, operation.cap);
      return;
    case Label::kIoPortsOut8:
    case Label::kIoPortsOut16:
    case Label::kIoPortsOut32: {
      uint64_t value = operation.value;
      if (width == 1) asm volatile("outb %b0, %w1" : : "a"(value), "Nd"(p));
      if (width == 2) asm volatile("outw %w0, %w1" : : "a"(value), "Nd"(p));
      if (width == 4) asm volatile("outl %k0, %w1" : : "a"(value), "Nd"(p));
      return;
    }
    default: break;
  }
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
  operation.output[0] = value;
  *operation.output_count = 1;
}

// Each device cap type decodes, then (only if that succeeded) invokes.
Error handle_irq_control_invocation(const Capability& cspace_root, Slot* slot,
                                    const Invocation& invocation) {
  DeviceOperation operation;
  Error error = decode_irq_control_invocation(cspace_root, slot, invocation, operation);
  if (error == Error::kNone) invoke_irq_control(operation);
  return error;
}

Error handle_irq_handler_invocation(const Capability& cspace_root, Slot* slot,
                                    const Invocation& invocation) {
  DeviceOperation operation;
  Error error = decode_irq_handler_invocation(cspace_root, slot, invocation, operation);
  if (error == Error::kNone) invoke_irq_handler(operation);
  return error;
}

Error handle_io_ports_invocation(const Capability& cspace_root, Slot* slot,
                                 const Invocation& invocation) {
  DeviceOperation operation;
  Error error = decode_io_ports_invocation(cspace_root, slot, invocation, operation);
  if (error == Error::kNone) invoke_io_ports(operation);
  return error;
}

}  // namespace

void device_invocations_init() {
  set_invocation_handler(ObjectType::kIrqControl, handle_irq_control_invocation);
  set_invocation_handler(ObjectType::kIrqHandler, handle_irq_handler_invocation);
  set_invocation_handler(ObjectType::kIoPorts, handle_io_ports_invocation);
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
