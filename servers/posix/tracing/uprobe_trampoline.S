// SPDX-License-Identifier: MIT
// The return-probe trampoline the POSIX server copies into a traced process's uprobe page.
// A function with a uretprobe returns here (its return address on the stack was swapped for
// this code at its entry probe, the real one kept in the data page that follows this code's
// page). The entry NOP is the return probe's breakpoint; then the code finds its pending return
// and frees it itself, so a pending return reaches its caller even with no trace server.
// Data page layout: kShadowEntries entries of {u64 slot, u64 return address, u64 function}
// (tracing/uprobes.cpp); slot is the stack address the return address was swapped at, 0 for a
// free entry. A thread's pending returns are at its own stack addresses, so threads returning
// in any order each find their own entry; the `ret` that brought the thread here left rsp just
// above that slot.
  .section .rodata
  .globl uprobe_trampoline_code
  .globl uprobe_trampoline_end
uprobe_trampoline_code:
  .byte 0x0f, 0x1f, 0x44, 0x00, 0x00   // nopl 0(%rax,%rax,1): the breakpoint goes here
  push %rax                             // room for the real return address: at the slot
  push %rax
  push %rcx
  push %rdx
  lea 24(%rsp), %rcx                    // the slot: the entry's key
  lea .Lentries(%rip), %rax
  mov $170, %edx                        // kShadowEntries (tracing/uprobes.cpp)
.Lscan:
  cmp %rcx, (%rax)
  je .Lfound
  add $24, %rax
  dec %edx
  jnz .Lscan
  ud2                                   // no entry: the process's data page was overwritten
.Lfound:
  mov 8(%rax), %rdx                     // the real return address
  movq $0, (%rax)                       // the entry is free again
  mov %rdx, 24(%rsp)
  pop %rdx
  pop %rcx
  pop %rax
  ret
uprobe_trampoline_end:
  .set .Lentries, uprobe_trampoline_code + 4096
