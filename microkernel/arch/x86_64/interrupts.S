/* SPDX-License-Identifier: MIT */
/* Interrupt and exception entry stubs: push a uniform TrapFrame and call the dispatcher. */
    .text

.macro STUB_NOERR vector
    .balign 16
interrupt_stub_\vector:
    pushq $0
    pushq $\vector
    jmp interrupt_common
.endm

.macro STUB_ERR vector
    .balign 16
interrupt_stub_\vector:
    pushq $\vector
    jmp interrupt_common
.endm

/* Exceptions that push an error code: 8, 10-14, 17, 21, 29, 30. */
STUB_NOERR 0
STUB_NOERR 1
STUB_NOERR 2
STUB_NOERR 3
STUB_NOERR 4
STUB_NOERR 5
STUB_NOERR 6
STUB_NOERR 7
STUB_ERR 8
STUB_NOERR 9
STUB_ERR 10
STUB_ERR 11
STUB_ERR 12
STUB_ERR 13
STUB_ERR 14
STUB_NOERR 15
STUB_NOERR 16
STUB_ERR 17
STUB_NOERR 18
STUB_NOERR 19
STUB_NOERR 20
STUB_ERR 21
STUB_NOERR 22
STUB_NOERR 23
STUB_NOERR 24
STUB_NOERR 25
STUB_NOERR 26
STUB_NOERR 27
STUB_NOERR 28
STUB_ERR 29
STUB_ERR 30
STUB_NOERR 31
.altmacro
.set vector, 32
.rept 224
    STUB_NOERR %vector
    .set vector, vector + 1
.endr

interrupt_common:
    cld
    /* From user mode, switch GS to this CPU's kernel block (the syscall entry has already). */
    testb $3, 24(%rsp)
    jz interrupt_common_swapped
    swapgs
interrupt_common_swapped:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    mov %rsp, %rdi
    call interrupt_dispatch
    /* fall through: return to the frame at rsp */
    .globl trap_return
trap_return:
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    add $16, %rsp          /* vector and error code */
    testb $3, 8(%rsp)      /* back to user mode: give GS back */
    jz 1f
    swapgs
1:  iretq

/* void arch::return_to(const TrapFrame* frame) */
    .globl _ZN4arch9return_toEPKNS_9TrapFrameE
_ZN4arch9return_toEPKNS_9TrapFrameE:
    mov %rdi, %rsp
    jmp trap_return

/* syscall entry: interrupts are off (SFMASK), rcx = user rip, r11 = user rflags. Build a
   TrapFrame on the kernel stack so syscalls and interrupts share one exit path. */
    .globl syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %gs:16       /* PerCpu::user_rsp */
    mov %gs:8, %rsp        /* PerCpu::kernel_stack_top */
    pushq $0x23            /* user ss */
    pushq %gs:16
    pushq %r11             /* rflags */
    pushq $0x2b            /* user cs */
    pushq %rcx             /* rip */
    pushq $0               /* error code */
    pushq $0x100           /* vector: syscall */
    jmp interrupt_common_swapped

    .section .rodata
    .balign 8
    .globl interrupt_stub_table
interrupt_stub_table:
.set vector, 0
.macro STUB_ADDRESS vector
    .quad interrupt_stub_\vector
.endm
.rept 256
    STUB_ADDRESS %vector
    .set vector, vector + 1
.endr

