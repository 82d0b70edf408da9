// SPDX-License-Identifier: MIT
// The return-probe trampoline the POSIX server copies into a traced process's uprobe page.
// A function with a uretprobe returns here (its return address on the stack was swapped for
// this code at its entry probe, the real one pushed on the shadow stack in the data page that
// follows this code's page). The entry NOP is the return probe's breakpoint; then the code pops
// the shadow stack itself, so a pending return reaches its caller even with no trace server.
// Data page layout: u64 depth, then {u64 return address, u64 function} per pending return.
  .section .rodata
  .globl uprobe_trampoline_code
  .globl uprobe_trampoline_end
uprobe_trampoline_code:
  .byte 0x0f, 0x1f, 0x44, 0x00, 0x00   // nopl 0(%rax,%rax,1): the breakpoint goes here
  push %rax                             // room for the real return address
  push %rax
  push %rcx
  mov .Ldepth(%rip), %rcx
  dec %rcx
  mov %rcx, .Ldepth(%rip)
  shl $4, %rcx
  lea .Lentries(%rip), %rax
  mov (%rax,%rcx), %rax
  mov %rax, 16(%rsp)
  pop %rcx
  pop %rax
  ret
uprobe_trampoline_end:
  .set .Ldepth, uprobe_trampoline_code + 4096
  .set .Lentries, uprobe_trampoline_code + 4096 + 8
