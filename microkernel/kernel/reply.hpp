// SPDX-License-Identifier: MIT
// Reply: the right to answer one Call, and the answer.
#pragma once

#include <stdint.h>

#include "kernel/tcb.hpp"
#include "sonde/abi/objects.hpp"

namespace kernel {

// The right to answer one Call: bound to the caller when a Recv that named it takes a Call
// (or a fault), unbound by the reply.
struct Reply {
  Tcb* caller;    // waiting for this reply (kBlockedOnReply), or null
  Tcb* receiver;  // blocked in Recv with this Reply named, or null
  uint64_t reserved[2];
};
static_assert(sizeof(Reply) <= (1u << sonde::abi::kReplyBits));

// Binds a Call's caller (now blocked on the reply) to a Reply.
void bind_reply(Reply* reply, Tcb* caller);
void unbind_reply(Reply* reply);
// Frees a Reply for a new Recv: a caller still bound to it will never get its answer.
void reclaim_reply(Reply* reply, Tcb* receiver);
// Sends `replier`'s message as the answer to the Reply's caller (or to its fault).
void reply_to(Tcb* replier, Reply* reply);

// Destroy hook: the bound caller gets Cancelled (or, faulted, loses its handler).
void reply_destroyed(Reply* reply);

}  // namespace kernel
