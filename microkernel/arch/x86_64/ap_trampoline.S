/* SPDX-License-Identifier: MIT */
/* Application processor start-up code. The boot CPU copies the bytes between
   ap_trampoline_start and ap_trampoline_end to a page below 1 MiB, fills in the data words at
   the end (addresses are linear, computed from where the copy went), and sends INIT-SIPI-SIPI.
   Each AP runs from real mode through protected mode to long mode here, takes an index with
   an atomic add, picks its stack and jumps to ap_main(index) in the kernel. */
#define OFFSET(label) ((label) - ap_trampoline_start)

    .section .rodata.ap_trampoline, "a"
    .code16
    .globl ap_trampoline_start
ap_trampoline_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    xor %ebx, %ebx
    mov %cs, %bx
    shl $4, %ebx                                 /* ebx = linear address of this page */
    lgdtl OFFSET(ap_gdt_pointer)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl *OFFSET(ap_far32)                      /* into 32-bit protected mode */

    .code32
ap_protected:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax  /* PAE, OSFXSR, OSXMMEXCPT */
    mov %eax, %cr4
    mov OFFSET(ap_cr3)(%ebx), %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx                        /* EFER: LME, NXE */
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax
    wrmsr
    mov %cr0, %eax
    and $~(1 << 2), %eax
    or $((1 << 31) | (1 << 16) | (1 << 1) | 1), %eax  /* PG, WP, MP, PE */
    mov %eax, %cr0
    ljmp *OFFSET(ap_far64)(%ebx)                 /* into 64-bit mode */

    .code64
ap_long:
    mov %ebx, %ebx                               /* zero the upper half */
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $1, %eax
    lock xadd %eax, OFFSET(ap_next_index)(%rbx)  /* eax = 0, 1, ... in arrival order */
    inc %eax                                     /* the boot CPU is 0 */
    mov %eax, %edi
    mov %rax, %rsi
    imul OFFSET(ap_stack_size)(%rbx), %rsi
    add OFFSET(ap_stacks)(%rbx), %rsi            /* stacks + index * size: top of stack index - 1 */
    mov %rsi, %rsp
    mov %rsp, %rsi                               /* ap_main(index, stack top) */
    xor %rbp, %rbp
    mov OFFSET(ap_entry)(%rbx), %rax
    jmp *%rax

    .balign 8
ap_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff                     /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff                     /* 0x10: data */
    .quad 0x00209a0000000000                     /* 0x18: 64-bit code */
ap_gdt_end:
    .globl ap_gdt_pointer
ap_gdt_pointer:
    .short ap_gdt_end - ap_gdt - 1
    .long 0                                      /* linear address of ap_gdt */
    .balign 8
    .globl ap_far32, ap_far64, ap_cr3, ap_stacks, ap_stack_size, ap_entry, ap_next_index
ap_far32:       .long 0                          /* linear address of ap_protected */
                .short 0x08
    .balign 8
ap_far64:       .long 0                          /* linear address of ap_long */
                .short 0x18
    .balign 8
ap_cr3:         .quad 0
ap_stacks:      .quad 0                          /* stack area; AP n's top is at n * size */
ap_stack_size:  .quad 0
ap_entry:       .quad 0
ap_next_index:  .long 0
    .globl ap_trampoline_end
ap_trampoline_end:

    /* Offsets the boot CPU patches. */
    .section .rodata
    .balign 8
    .globl ap_trampoline_offsets
ap_trampoline_offsets:
    .quad OFFSET(ap_gdt_pointer) + 2, OFFSET(ap_gdt)
    .quad OFFSET(ap_far32), OFFSET(ap_protected)
    .quad OFFSET(ap_far64), OFFSET(ap_long)
    .quad OFFSET(ap_cr3), OFFSET(ap_stacks), OFFSET(ap_stack_size), OFFSET(ap_entry)
    .quad OFFSET(ap_next_index)
