// SPDX-License-Identifier: MIT
// Which system calls the trace server wants at the syscall hooks (trace_sys_enter,
// trace_sys_exit): "static keys" it sets by putting a breakpoint on them, as it arms the hooks
// themselves. One byte per system call number and side, and one byte per side for every call
// (raw_syscalls, or a call whose own byte could not be armed). The server reads the first byte
// of a key (an int3 when it is set) before it calls a hook: a system call nobody traces costs
// the trace server no breakpoint hit. The bytes are never executed.
        .text
        .globl trace_syscall_keys_enter, trace_syscall_keys_exit
        .globl trace_syscall_key_all_enter, trace_syscall_key_all_exit
        .type trace_syscall_keys_enter, @function
trace_syscall_keys_enter:
        .fill   512, 1, 0x90
        .size trace_syscall_keys_enter, . - trace_syscall_keys_enter
        .type trace_syscall_keys_exit, @function
trace_syscall_keys_exit:
        .fill   512, 1, 0x90
        .size trace_syscall_keys_exit, . - trace_syscall_keys_exit
        .type trace_syscall_key_all_enter, @function
trace_syscall_key_all_enter:
        nop
        .size trace_syscall_key_all_enter, . - trace_syscall_key_all_enter
        .type trace_syscall_key_all_exit, @function
trace_syscall_key_all_exit:
        nop
        .size trace_syscall_key_all_exit, . - trace_syscall_key_all_exit
        ud2

        .section .note.GNU-stack, "", @progbits
