// SPDX-License-Identifier: MIT
// Device caps: interrupt lines (IrqControl, IrqHandler) and x86 I/O port ranges (IoPorts),
// so a user-mode driver can own a device such as COM1.
#pragma once

#include <stdint.h>

#include "kernel/cap.hpp"

namespace kernel {

struct Notification;

void device_invocations_init();
// The caps the root task starts with.
Capability irq_control_cap();
Capability io_ports_cap(uint16_t first, uint16_t last);

// A legacy PIC line fired (kernel lock held): signal its notification and keep it masked
// until the handler acknowledges. False when no handler has it (the kernel masks it).
void device_irq(unsigned irq);
// Destroy hooks.
void irq_handler_destroyed(unsigned irq);
void irq_notification_destroyed(Notification* notification);

}  // namespace kernel
