// SPDX-License-Identifier: MIT
// The IPC fast path: Call and ReplyRecv in the common case, without a message buffer.
#pragma once

#include "kernel/tcb.hpp"

namespace kernel {

// The fast path for the common case of Call and ReplyRecv: a message that fits in registers,
// no caps, no fault, and a partner already waiting (Call) or none (ReplyRecv, which then
// blocks). It does what the general path would, without gathering into a message buffer;
// anything else falls back to the general path (returns false, having changed nothing).
bool fast_call(Tcb* caller);
bool fast_reply_receive(Tcb* caller);

}  // namespace kernel
