// SPDX-License-Identifier: MIT
// Endpoint: synchronous rendezvous between senders and receivers, and cancelling a thread's IPC.
#pragma once

#include <stdint.h>

#include "kernel/tcb.hpp"
#include "sonde/abi/objects.hpp"

namespace kernel {

struct Reply;

// In its Retype memory (zeroed = idle).
struct Endpoint {
  Tcb* head;
  Tcb* tail;
  uint64_t state;      // EndpointState
  uint64_t receivers;  // caps to it with the Read right: at 0 nobody can ever receive
};
static_assert(sizeof(Endpoint) <= (1u << sonde::abi::kEndpointBits));

enum EndpointState : uint64_t { kIdle = 0, kSending = 1, kReceiving = 2 };

// Takes the thread at the head of the endpoint's queue out of it.
Tcb* endpoint_pop(Endpoint* endpoint);

// Sends from `sender` (its message, or its fault) through a cap with `badge`: to a waiting
// receiver, else (blocking) into the queue; a Call then waits for its reply.
void endpoint_send(Tcb* sender, Endpoint* endpoint, uint64_t badge, bool can_grant, bool is_call,
                   bool blocking);
// Receives on the endpoint, binding a Call's caller to `reply` (may be null).
void endpoint_receive(Tcb* receiver, Endpoint* endpoint, Reply* reply, bool blocking);

// Takes `tcb` out of any IPC it is blocked in (Suspend, exit, destruction); it is left
// kInactive. A pending fault is dropped (resuming retries the faulting instruction).
void ipc_cancel(Tcb* tcb);

// Destroy hook: wakes everything waiting on the endpoint with an error.
void endpoint_destroyed(Endpoint* endpoint);
// The last cap that could receive on the endpoint is gone: waiting senders (and faulted
// threads) are released as if the endpoint were gone, and later sends fail with NoReceiver.
void endpoint_lost_receivers(Endpoint* endpoint);
// Keeps Endpoint::receivers (cap hooks).
void endpoint_cap_counted(const Capability& cap, int64_t change);

}  // namespace kernel
