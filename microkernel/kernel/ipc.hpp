// IPC: endpoints, notifications, replies, fault messages, and the IPC system calls.
#pragma once

#include <stdint.h>

#include "kernel/thread.hpp"
#include "sonde/abi/ipc.hpp"
#include "sonde/abi/syscalls.hpp"

namespace kernel {

// Kernel objects in their Retype memory (zeroed = idle/empty).
struct Endpoint {
  Tcb* head;
  Tcb* tail;
  uint64_t state;      // EndpointState
  uint64_t receivers;  // caps to it with the Read right: at 0 nobody can ever receive
};
static_assert(sizeof(Endpoint) <= (1u << sonde::abi::kEndpointBits));

struct Notification {
  uint64_t word;    // badges signalled and not yet taken, or-ed together
  Tcb* head;        // waiters
  Tcb* tail;
  uint64_t active;  // a signal is pending (even one through an unbadged cap, badge 0)
};
static_assert(sizeof(Notification) <= (1u << sonde::abi::kNotificationBits));

// The right to answer one Call: bound to the caller when a Recv that named it takes a Call
// (or a fault), unbound by the reply.
struct Reply {
  Tcb* caller;    // waiting for this reply (kBlockedOnReply), or null
  Tcb* receiver;  // blocked in Recv with this Reply named, or null
  uint64_t reserved[2];
};
static_assert(sizeof(Reply) <= (1u << sonde::abi::kReplyBits));

// The IPC and invocation system calls of `caller` (the current thread), whose registers are
// in caller->regs: Call, Send, NBSend, Recv, NBRecv, ReplyRecv. Results go to its registers,
// or to whoever wakes it later.
void ipc_syscall(Tcb* caller, sonde::abi::Syscall number);

// Stops `tcb` and sends the fault to its fault endpoint as if it had called it; with no
// handler, suspends it and signals its supervisor.
void deliver_fault(Tcb* tcb, sonde::abi::FaultKind kind, uint64_t address, uint64_t detail);

// The same, to a given endpoint cap (a breakpoint's): the thread waits for its reply.
void deliver_fault_to(Tcb* tcb, const Capability& endpoint, sonde::abi::FaultKind kind,
                      uint64_t address, uint64_t detail);

// Takes `tcb` out of any IPC it is blocked in (Suspend, exit, destruction); it is left
// kInactive. A pending fault is dropped (resuming retries the faulting instruction).
void ipc_cancel(Tcb* tcb);

// Signals a notification as a Send through a cap with `badge` would (kernel lock held).
void notification_signal(Notification* notification, uint64_t badge);

// Destroy hooks: wake everything waiting on the object with an error.
void endpoint_destroyed(Endpoint* endpoint);
// The last cap that could receive on the endpoint is gone: waiting senders (and faulted
// threads) are released as if the endpoint were gone, and later sends fail with NoReceiver.
void endpoint_lost_receivers(Endpoint* endpoint);
// Keeps Endpoint::receivers (cap hooks).
void endpoint_cap_counted(const Capability& cap, int64_t change);
void notification_destroyed(Notification* notification);
void reply_destroyed(Reply* reply);

// Reads or writes user memory of `tcb` through its own page tables (checked on every page).
bool read_thread_memory(const Tcb* tcb, uint64_t address, void* buffer, uint64_t length);
bool write_thread_memory(const Tcb* tcb, uint64_t address, const void* buffer, uint64_t length);

// Copies message register `index` (0..7) of a register set.
uint64_t& message_register(arch::TrapFrame& regs, uint64_t index);

// Converts between the saved TrapFrame and the ABI's UserRegisters.
void registers_to_user(const Tcb& tcb, sonde::abi::UserRegisters& out);
// False (and no change) when rip or fs_base is not a user address; rflags is sanitised.
bool registers_from_user(Tcb& tcb, const sonde::abi::UserRegisters& in);

}  // namespace kernel
