// SPDX-License-Identifier: MIT
// The return-probe trampoline's call to the trace service (kretprobe.S), as assembler constants;
// kretprobe_call.cpp checks them against the C++ ABI.
#pragma once

#define KRETPROBE_SYSCALL_CALL 4      /* sonde::abi::Syscall::kCall */
#define KRETPROBE_SERVICE_SLOT 12     /* sys::kServerSlotTraceService */
#define KRETPROBE_RETURN_LABEL 0x7e70 /* sys::kKretprobeReturnLabel */
/* MessageInfo{KRETPROBE_RETURN_LABEL, 1 word, no caps}.encode() */
#define KRETPROBE_CALL_INFO ((KRETPROBE_RETURN_LABEL << 12) | 1)
#define KPROBE_ENTRY_LABEL 0x7e73 /* sys::kKprobeEntryLabel */
/* Offsets in Linux's x86-64 struct pt_regs, which the entry stub lays out. */
#define PT_REGS_ORIG_AX (15 * 8)
#define PT_REGS_IP (16 * 8)
#define PT_REGS_CS (17 * 8)
#define PT_REGS_FLAGS (18 * 8)
#define PT_REGS_SP (19 * 8)
#define PT_REGS_SS (20 * 8)
#define PT_REGS_SIZE (21 * 8)
#define KPROBE_ENTRY_CALL_INFO ((KPROBE_ENTRY_LABEL << 12) | 1)
/* sonde::abi::kServerAliasDelta as a sign-extended 32-bit immediate: pt_regs ip as Linux
   programs see the server's code. */
#define KERNEL_ALIAS_DELTA_IMM32 (-0x7f400000)
