/* SPDX-License-Identifier: MIT */
/* _start for native programs: align the stack, call main, exit with its result. */
    .text
    .globl _start
    .type _start, @function     /* a function symbol: stack walks name the frame below main */
_start:
    xor %rbp, %rbp
    and $-16, %rsp
    call main
    mov %rax, %rdi
    mov $2, %eax            /* Syscall::kThreadExit */
    syscall
1:  jmp 1b
    .size _start, . - _start
