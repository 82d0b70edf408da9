// SPDX-License-Identifier: MIT
// The assembler constants of kretprobe_call.h, checked against the ABI they stand for.
#include "kernel/kretprobe_call.h"

#include "sonde/abi/ipc.hpp"
#include "sonde/abi/syscalls.hpp"
#include "sys/server_start.hpp"

static_assert(KRETPROBE_SYSCALL_CALL == static_cast<int>(sonde::abi::Syscall::kCall));
static_assert(KRETPROBE_SERVICE_SLOT == sys::kServerSlotTraceService);
static_assert(KRETPROBE_RETURN_LABEL == sys::kKretprobeReturnLabel);
static_assert(KRETPROBE_CALL_INFO ==
              sonde::abi::MessageInfo{sys::kKretprobeReturnLabel, 1, 0}.encode());
static_assert(KPROBE_ENTRY_LABEL == sys::kKprobeEntryLabel);
static_assert(KPROBE_ENTRY_CALL_INFO ==
              sonde::abi::MessageInfo{sys::kKprobeEntryLabel, 1, 0}.encode());
