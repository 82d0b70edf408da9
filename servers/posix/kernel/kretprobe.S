// SPDX-License-Identifier: MIT
// Return probes on POSIX-server functions (DESIGN.md section 5): the trace server, at a return
// probe's entry hit, resumes the thread at kretprobe_shim with r11 = the function after its entry
// NOP. The shim keeps the real return address here, in the POSIX server, and makes the function
// return to kretprobe_trampoline, whose entry NOP the trace server probes while return probes
// exist. The trampoline then returns to the real address itself: with no trace server (a crash),
// every pending return still reaches its caller. One stack of pending returns: probed functions
// run on the serving thread only.
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
        .byte   0x0f, 0x1f, 0x44, 0x00, 0x08    // 5-byte NOP: the return probe point
        mov     kretprobe_depth(%rip), %r10
        dec     %r10
        mov     %r10, kretprobe_depth(%rip)
        mov     kretprobe_return_addresses(,%r10,8), %r11
        jmp     *%r11
        .size kretprobe_trampoline, . - kretprobe_trampoline

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
