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

/* From user mode the CPU switched to TSS.rsp0, the end of the current thread's register frame
   in its TCB (set at every exit to user mode), so the frame is built in the TCB itself; the
   kernel then runs on this CPU's stack and leaves through exit_to_user. From kernel mode (the
   idle loop, kernel probes) the frame is on the kernel stack and trap_return goes back. */
interrupt_common:
    cld
    testb $3, 24(%rsp)
    jz kernel_interrupt_common
    swapgs
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
    mov %gs:8, %rsp        /* PerCpu::kernel_stack_top */
    call user_interrupt    /* does not return */
    ud2

kernel_interrupt_common:
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
    iretq

/* syscall entry: interrupts are off (SFMASK), rcx = user rip, r11 = user rflags. The
   registers go straight into the current thread's TCB (PerCpu::entry_frame, %gs:32; a scratch
   frame when there is no thread whose TCB may be written), then the kernel runs on this CPU's
   stack and never returns here: it leaves through exit_to_user. */
    .globl syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %gs:16       /* PerCpu::user_rsp */
    cmp $11, %rax          /* Syscall::kCount (static_assert in syscall.cpp) */
    jae unknown_syscall
general_syscall:
    mov %gs:32, %rsp       /* PerCpu::entry_frame */
    mov %rax, 112(%rsp)
    mov %rbx, 104(%rsp)
    mov %rcx, 96(%rsp)
    mov %rdx, 88(%rsp)
    mov %rsi, 80(%rsp)
    mov %rdi, 72(%rsp)
    mov %rbp, 64(%rsp)
    mov %r8, 56(%rsp)
    mov %r9, 48(%rsp)
    mov %r10, 40(%rsp)
    mov %r11, 32(%rsp)
    mov %r12, 24(%rsp)
    mov %r13, 16(%rsp)
    mov %r14, 8(%rsp)
    mov %r15, 0(%rsp)
    mov %rcx, 136(%rsp)    /* rip */
    mov %r11, 152(%rsp)    /* rflags */
    mov %gs:16, %rcx
    mov %rcx, 160(%rsp)    /* rsp */
    movq $0x100, 120(%rsp) /* vector: syscall (cs and ss never change in a TCB) */
    mov %gs:8, %rsp        /* PerCpu::kernel_stack_top */
    call syscall_handler   /* does not return */
    ud2

/* A number no native call has, from a native thread: Error::kUnknownSyscall (-1 in rax) at
   once, without the kernel lock, the TCB or the scheduler. Nothing kernel state holds is read
   but this CPU's current thread and its ABI byte: interrupts are off, so a CPU destroying that
   thread waits (wait_for_entry's IPI) until this CPU is back in user mode, and a thread whose
   destruction began has current == 0 here. The user rsp is the scratch register (saved in
   PerCpu::user_rsp); rax keeps the number until the thread is known to be native. Anything
   else takes the general path with every register as the syscall left it: no current thread
   (the scratch frame), a Linux-ABI thread (ForeignSyscall), a non-canonical rsp (the #GP
   fault kernel_exit delivers) or a rip at or above kUserTop (sysretq would fault in ring 0).
   Interrupts that came meanwhile are taken in user mode after sysretq, as they would be had
   the thread not entered the kernel. */
unknown_syscall:
    mov %gs:64, %rsp       /* PerCpu::current */
    test %rsp, %rsp
    jz general_syscall
    cmpb $0, 955(%rsp)     /* Tcb::abi != ThreadAbi::kNative */
    jne general_syscall
    mov %gs:16, %rsp
    sar $47, %rsp          /* canonical: 0 or -1 */
    inc %rsp
    cmp $1, %rsp
    ja general_syscall
    mov %rcx, %rsp
    shr $47, %rsp          /* rip < kUserTop */
    jnz general_syscall
    mov $-1, %rax          /* -Error::kUnknownSyscall */
    mov %gs:16, %rsp
    swapgs
    sysretq

/* [[noreturn]] void arch::exit_to_user(const TrapFrame* frame): the kernel lock is held and
   interrupts are off. Every register is read from the TCB before the lock is released (another
   CPU may change the TCB as soon as it has the lock). A frame saved by a syscall leaves by
   sysretq: rcx and r11 carry rip and rflags, as the syscall ABI allows; any other frame leaves
   by iretq from this CPU's stack, which restores every register. */
    .globl _ZN4arch12exit_to_userEPKNS_9TrapFrameE
_ZN4arch12exit_to_userEPKNS_9TrapFrameE:
    cmpq $0x100, 120(%rdi)
    jne 1f
    mov 136(%rdi), %rcx
    mov 152(%rdi), %r11
    mov 112(%rdi), %rax
    mov 104(%rdi), %rbx
    mov 88(%rdi), %rdx
    mov 80(%rdi), %rsi
    mov 64(%rdi), %rbp
    mov 56(%rdi), %r8
    mov 48(%rdi), %r9
    mov 40(%rdi), %r10
    mov 24(%rdi), %r12
    mov 16(%rdi), %r13
    mov 8(%rdi), %r14
    mov 0(%rdi), %r15
    mov 160(%rdi), %rsp
    mov 72(%rdi), %rdi
    movl $-1, kernel_big_lock+8(%rip)   /* kernel_unlock: owner, then serving + 1 */
    incl kernel_big_lock+4(%rip)
    swapgs
    sysretq
1:  mov %gs:8, %rsp
    pushq 168(%rdi)        /* ss */
    pushq 160(%rdi)        /* rsp */
    pushq 152(%rdi)        /* rflags */
    pushq 144(%rdi)        /* cs */
    pushq 136(%rdi)        /* rip */
    mov 112(%rdi), %rax
    mov 104(%rdi), %rbx
    mov 96(%rdi), %rcx
    mov 88(%rdi), %rdx
    mov 80(%rdi), %rsi
    mov 64(%rdi), %rbp
    mov 56(%rdi), %r8
    mov 48(%rdi), %r9
    mov 40(%rdi), %r10
    mov 32(%rdi), %r11
    mov 24(%rdi), %r12
    mov 16(%rdi), %r13
    mov 8(%rdi), %r14
    mov 0(%rdi), %r15
    mov 72(%rdi), %rdi
    movl $-1, kernel_big_lock+8(%rip)
    incl kernel_big_lock+4(%rip)
    swapgs
    iretq

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

