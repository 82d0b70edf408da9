// SPDX-License-Identifier: MIT
// The assembler constants of kretprobe_call.h, checked against the ABI they stand for.
#include "kernel/kretprobe_call.h"

#include <stddef.h>

#include "kernel/linux_types.h"
#include "rt/kernel_alias.hpp"
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
static_assert(PT_REGS_ORIG_AX == offsetof(pt_regs, orig_ax));
static_assert(PT_REGS_IP == offsetof(pt_regs, ip));
static_assert(PT_REGS_CS == offsetof(pt_regs, cs));
static_assert(PT_REGS_FLAGS == offsetof(pt_regs, flags));
static_assert(PT_REGS_SP == offsetof(pt_regs, sp));
static_assert(PT_REGS_SS == offsetof(pt_regs, ss));
static_assert(PT_REGS_SIZE == sizeof(pt_regs));
static_assert(static_cast<uint64_t>(int64_t{KERNEL_ALIAS_DELTA_IMM32}) ==
              sonde::abi::kServerAliasDelta);
