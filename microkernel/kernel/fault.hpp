// SPDX-License-Identifier: MIT
// Faults: a faulting thread's message to its handler, and the handler's answer.
#pragma once

#include <stdint.h>

#include "kernel/message.hpp"
#include "kernel/tcb.hpp"
#include "sonde/abi/ipc.hpp"

namespace kernel {

// Stops `tcb` and sends the fault to its fault endpoint as if it had called it; with no
// handler, suspends it and signals its supervisor. When `tcb` is this CPU's current thread and
// the handler is waiting and may run at once, this does not return: it leaves the kernel to
// the handler (fast_fault), so callers must have nothing left to do but the kernel exit.
void deliver_fault(Tcb* tcb, sonde::abi::FaultKind kind, uint64_t address, uint64_t detail);

// The same, to a given endpoint cap (a breakpoint's): the thread waits for its reply.
void deliver_fault_to(Tcb* tcb, const Capability& endpoint, sonde::abi::FaultKind kind,
                      uint64_t address, uint64_t detail);

// With no fault handler left: the thread stops, and its supervisor (if any) is told.
void handler_gone(Tcb* tcb);

// Applies a fault handler's reply to the faulted thread; false if the reply is malformed
// (the thread stays waiting for a proper one).
bool answer_fault(Tcb* faulted, const Message& message);
// FaultReply::kSetSomeRegisters' words (mask, values) applied to the thread's registers; false
// (and no change) for a bad mask, too few values or a register value the kernel refuses.
bool set_some_registers(Tcb* faulted, const uint64_t* words, uint64_t length);

}  // namespace kernel
