// SPDX-License-Identifier: MIT
// Return probes on POSIX-server functions (DESIGN.md section 5): the trace server, at a return
// probe's entry hit, resumes the thread at kretprobe_shim with r11 = the function after its entry
// NOP. The shim keeps the real return address here, in the POSIX server, and makes the function
// return to kretprobe_trampoline. While return probes exist the trace server has a breakpoint
// on kretprobe_return_key (a static key: never executed); the trampoline then lays out the
// registers the function returned with as a struct pt_regs on the stack (ip = the real return
// address) and calls the trace service with its address (one IPC round trip, no breakpoint
// trap), and the trace server runs the return programs on it before it answers. The trampoline then returns to the real address itself: with no
// trace server (a crash: the kernel takes its breakpoints away, the key with them), every
// pending return still reaches its caller. One stack of pending returns: probed functions run
// on the serving thread only.
#include "kernel/kretprobe_call.h"

// Lays out Linux's struct pt_regs below the stack pointer, as the registers are now: the
// flags as they were (lea, not sub), orig_ax -1, the user code and stack segments, sp = the
// stack pointer plus `above` bytes. The caller stores ip; r11 is free afterwards (saved).
.macro PUSH_PT_REGS above
        lea     -(PT_REGS_SIZE - PT_REGS_ORIG_AX)(%rsp), %rsp
        push    %rdi
        push    %rsi
        push    %rdx
        push    %rcx
        push    %rax
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        push    %rbx
        push    %rbp
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        pushfq
        pop     %r11
        mov     %r11, PT_REGS_FLAGS(%rsp)
        movq    $-1, PT_REGS_ORIG_AX(%rsp)
        movq    $0x33, PT_REGS_CS(%rsp)
        lea     PT_REGS_SIZE+\above(%rsp), %r11
        mov     %r11, PT_REGS_SP(%rsp)
        movq    $0x2b, PT_REGS_SS(%rsp)
.endm

// Calls the trace service with the pt_regs at the stack pointer as word 0 and message info
// `info`; rax is the error (0: the answer's word 0 is in r10).
.macro CALL_TRACE_SERVICE info
        mov     %rsp, %r10
        mov     $KRETPROBE_SYSCALL_CALL, %eax
        mov     $KRETPROBE_SERVICE_SLOT, %edi
        mov     $\info, %esi
        xor     %edx, %edx
        syscall
.endm

// Restores the general registers PUSH_PT_REGS saved; the stack pointer is left at orig_ax.
.macro POP_PT_REGS
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbp
        pop     %rbx
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rax
        pop     %rcx
        pop     %rdx
        pop     %rsi
        pop     %rdi
.endm

        .text
        .globl kretprobe_shim
        .type kretprobe_shim, @function
kretprobe_shim:
        mov     kretprobe_depth(%rip), %r10
        cmp     $64, %r10
        jae     1f                          // full: this call returns unprobed (Linux: nmissed)
        push    %r11                        // the function, after its entry NOP
        mov     8(%rsp), %r11
        mov     %r11, kretprobe_return_addresses(,%r10,8)
        mov     (%rsp), %r11
        mov     %r11, kretprobe_functions(,%r10,8)
        inc     %r10
        mov     %r10, kretprobe_depth(%rip)
        lea     kretprobe_trampoline(%rip), %r11
        mov     %r11, 8(%rsp)
        pop     %r11
1:      jmp     *%r11
        .size kretprobe_shim, . - kretprobe_shim

        .globl kretprobe_trampoline
        .type kretprobe_trampoline, @function
kretprobe_trampoline:
        cmpb    $0xcc, kretprobe_return_key(%rip)
        jne     2f
        PUSH_PT_REGS 0                          // sp: where the function returned to us
        mov     kretprobe_depth(%rip), %r11     // ip: the pending return's real address
        mov     kretprobe_return_addresses-8(,%r11,8), %r11
        add     $KERNEL_ALIAS_DELTA_IMM32, %r11 // as programs see it (kernel_alias.hpp)
        mov     %r11, PT_REGS_IP(%rsp)
        CALL_TRACE_SERVICE KRETPROBE_CALL_INFO  // an error (no trace server) changes nothing
        POP_PT_REGS
        lea     PT_REGS_FLAGS-PT_REGS_ORIG_AX(%rsp), %rsp
        popfq
        lea     PT_REGS_SIZE-PT_REGS_SP(%rsp), %rsp
2:      mov     kretprobe_depth(%rip), %r10
        dec     %r10
        mov     %r10, kretprobe_depth(%rip)
        mov     kretprobe_return_addresses(,%r10,8), %r11
        jmp     *%r11
        .size kretprobe_trampoline, . - kretprobe_trampoline

// Kprobes on POSIX-server functions without a trap: the trace server has the kernel write
// `call kprobe_entry_stub` over a probed function's entry NOP (a call probe). The stub lays out
// Linux's struct pt_regs on the stack (ip = the function + 1, as after an int3; sp = the
// function's entry rsp; above it the function + 5 the call pushed), calls the trace service
// with its address, and the trace server runs the entry programs on it in place before it
// answers: 1 when the function has return probes (the stub then goes on into the shim, with
// r11 = the function + 5 as the shim wants), else 0 (back into the function after its NOP). An
// error (no trace server: the kernel put the NOP back; a call made just before) is a 0. The
// flags are not restored (nothing lives in them at a function's entry), nor r11 on the way to
// the shim.
        .globl kprobe_entry_stub
        .type kprobe_entry_stub, @function
kprobe_entry_stub:
        PUSH_PT_REGS 8                          // sp: the function's entry rsp, above the
                                                // function + 5 the call pushed
        mov     PT_REGS_SIZE(%rsp), %r11
        sub     $4, %r11                        // ip: the function + 1, as after an int3,
        add     $KERNEL_ALIAS_DELTA_IMM32, %r11 // where programs see it (kernel_alias.hpp)
        mov     %r11, PT_REGS_IP(%rsp)
        CALL_TRACE_SERVICE KPROBE_ENTRY_CALL_INFO
        test    %rax, %rax
        jz      4f
        xor     %r10d, %r10d                    // no answer: straight on
4:      mov     %r10, PT_REGS_ORIG_AX(%rsp)     // the answer, kept over the restore
        POP_PT_REGS
        cmpq    $0, (%rsp)                      // the flags are the function's to clobber
        lea     PT_REGS_SIZE-PT_REGS_ORIG_AX(%rsp), %rsp
        jne     3f
        ret                                     // to the function after its entry NOP
3:      pop     %r11                            // the function + 5, for the shim
        jmp     kretprobe_shim
        .size kprobe_entry_stub, . - kprobe_entry_stub

        .globl kretprobe_return_key
        .type kretprobe_return_key, @function
kretprobe_return_key:
        .byte   0x0f, 0x1f, 0x44, 0x00, 0x08    // never executed: an int3 here arms the trampoline
        ud2
        .size kretprobe_return_key, . - kretprobe_return_key

// Kprobes inside POSIX-server functions (an int3 on any instruction): the page of out-of-line
// slots the kernel single-steps after a hit (docs/KERNEL.md, Breakpoints). The root task maps
// its frame writable into the trace server, which writes each probe's slot there; here it is
// executable code, never written, and never goes away (a trace server that dies leaves its
// slots behind for a thread that was about to run one). int3s until a slot is written.
        .section .text.kprobe_xol, "ax", @progbits
        .balign 4096
        .globl kprobe_xol_page
        .type kprobe_xol_page, @object
kprobe_xol_page:
        .fill   4096, 1, 0xcc
        .size kprobe_xol_page, 4096
        .bss
        .balign 2048                        // all three in one page: the trace server reads
                                            // them through one pinned window page
        .globl kretprobe_depth, kretprobe_return_addresses, kretprobe_functions
        .type kretprobe_depth, @object
kretprobe_depth:
        .zero   8
        .size kretprobe_depth, 8
        .type kretprobe_return_addresses, @object
kretprobe_return_addresses:
        .zero   64 * 8
        .size kretprobe_return_addresses, 64 * 8
        .type kretprobe_functions, @object
kretprobe_functions:
        .zero   64 * 8
        .size kretprobe_functions, 64 * 8

        .section .note.GNU-stack, "", @progbits
