// SPDX-License-Identifier: MIT
// The return-probe trampoline's call to the trace service (kretprobe.S), as assembler constants;
// kretprobe_call.cpp checks them against the C++ ABI.
#pragma once

#define KRETPROBE_SYSCALL_CALL 4      /* sonde::abi::Syscall::kCall */
#define KRETPROBE_SERVICE_SLOT 12     /* sys::kServerSlotTraceService */
#define KRETPROBE_RETURN_LABEL 0x7e70 /* sys::kKretprobeReturnLabel */
/* MessageInfo{KRETPROBE_RETURN_LABEL, 1 word, no caps}.encode() */
#define KRETPROBE_CALL_INFO ((KRETPROBE_RETURN_LABEL << 12) | 1)
/* The registers the trampoline saves: 15 general ones in pt_regs order, then rflags. */
#define KRETPROBE_SAVED_WORDS 16
#define KPROBE_ENTRY_LABEL 0x7e73 /* sys::kKprobeEntryLabel */
#define KPROBE_ENTRY_CALL_INFO ((KPROBE_ENTRY_LABEL << 12) | 1)
