// SPDX-License-Identifier: MIT
// What happens to kernel structures when Retype creates them and their last cap goes away.
#include "kernel/objects.hpp"

#include "kernel/breakpoint.hpp"
#include "kernel/device_caps.hpp"
#include "kernel/endpoint.hpp"
#include "kernel/notification.hpp"
#include "kernel/object_types.hpp"
#include "kernel/reply.hpp"
#include "kernel/scheduler.hpp"
#include "kernel/tcb.hpp"
#include "kernel/vspace.hpp"

namespace kernel {
namespace {

void created(void*, ObjectType type, uintptr_t object, uint8_t) {
  if (type == ObjectType::kTcb) thread_created(reinterpret_cast<Tcb*>(object));
  if (type == ObjectType::kVSpace) vspace_created(object);
}

// GAP: revoking a badged endpoint cap leaves the senders queued with that badge waiting
// (seL4's CancelBadgedSends); only the endpoint's destruction, with its last cap, wakes them.
void destroyed(void*, ObjectType type, uintptr_t object, uint8_t) {
  switch (type) {
    case ObjectType::kTcb: {
      auto* tcb = reinterpret_cast<Tcb*>(object);
      ipc_cancel(tcb);
      thread_destroyed(tcb);
      break;
    }
    case ObjectType::kEndpoint: endpoint_destroyed(reinterpret_cast<Endpoint*>(object)); break;
    case ObjectType::kNotification:
      irq_notification_destroyed(reinterpret_cast<Notification*>(object));
      notification_destroyed(reinterpret_cast<Notification*>(object));
      break;
    case ObjectType::kIrqHandler: irq_handler_destroyed(static_cast<unsigned>(object)); break;
    case ObjectType::kReply: reply_destroyed(reinterpret_cast<Reply*>(object)); break;
    case ObjectType::kVSpace: vspace_destroyed(object); break;
    case ObjectType::kBreakpoint:
      breakpoint_destroyed(reinterpret_cast<Breakpoint*>(object));
      break;
    default: break;
  }
}

SlotRange embedded(void*, ObjectType type, uintptr_t object) {
  if (type == ObjectType::kBreakpoint) {
    static_assert(offsetof(Breakpoint, ring) == offsetof(Breakpoint, endpoint) + sizeof(Slot));
    return SlotRange{&reinterpret_cast<Breakpoint*>(object)->endpoint, 2};
  }
  if (type != ObjectType::kTcb) return {};
  auto* tcb = reinterpret_cast<Tcb*>(object);
  // cspace_root, vspace, fault_endpoint and supervisor are consecutive.
  static_assert(offsetof(Tcb, supervisor) == offsetof(Tcb, cspace_root) + 3 * sizeof(Slot));
  return SlotRange{&tcb->cspace_root, 4};
}

void cap_removed(void*, const Capability& cap) {
  endpoint_cap_counted(cap, -1);
  mapping_cap_removed(cap);
}
void cap_added(void*, const Capability& cap) { endpoint_cap_counted(cap, 1); }
void cap_changed(void*, const Capability& before, const Capability& after) {
  endpoint_cap_counted(after, 1);  // first, so a cap keeping its Read right never counts 0
  endpoint_cap_counted(before, -1);
}

const ObjectHooks hooks{created, destroyed, embedded, nullptr, cap_removed, cap_added, cap_changed};

}  // namespace

void objects_init() {
  set_object_hooks(&hooks);
  tcb_invocations_init();
  vspace_invocations_init();
  breakpoint_invocations_init();
  device_invocations_init();
  notification_invocations_init();
}

}  // namespace kernel
