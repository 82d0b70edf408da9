/* SPDX-License-Identifier: MIT */
/* Multiboot2 entry: 32-bit protected mode to 64-bit long mode, then jump to the higher half. */
#define KERNEL_BASE 0xffffffff80000000
#define MB2_MAGIC 0xe85250d6

    .section .multiboot2, "a"
    .balign 8
multiboot2_header:
    .long MB2_MAGIC
    .long 0                                  /* architecture: i386 protected mode */
    .long multiboot2_header_end - multiboot2_header
    .long -(MB2_MAGIC + 0 + (multiboot2_header_end - multiboot2_header))
    /* end tag */
    .short 0
    .short 0
    .long 8
multiboot2_header_end:

    .section .boot.text, "ax"
    .code32
    .globl _start
_start:
    cli
    mov $boot_stack_top_phys, %esp
    mov %eax, %ebp                           /* multiboot2 magic */
    mov %ebx, %esi                           /* physical address of the boot information */

    /* Long mode needs CPUID leaf 0x80000001 bit 29; without it say so on COM1 and stop. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    test $(1 << 29), %edx
    jz no_long_mode

    /* Boot page tables: identity map and -2 GiB map of the first 1 GiB with 2 MiB pages. */
    mov $boot_pml4, %edi
    xor %eax, %eax
    mov $(4 * 4096 / 4), %ecx
    rep stosl
    mov %esi, %ebx                           /* keep boot information across the fill */
    mov $boot_pd, %eax
    xor %ecx, %ecx
1:  mov %ecx, %edx
    shl $21, %edx
    or $0x83, %edx                           /* present, writable, 2 MiB page */
    mov %edx, (%eax, %ecx, 8)
    movl $0, 4(%eax, %ecx, 8)
    inc %ecx
    cmp $512, %ecx
    jne 1b

    mov $boot_pd, %eax
    or $0x3, %eax
    mov %eax, boot_pdpt_low
    mov %eax, boot_pdpt_high + 510 * 8
    mov $boot_pdpt_low, %eax
    or $0x3, %eax
    mov %eax, boot_pml4
    mov $boot_pdpt_high, %eax
    or $0x3, %eax
    mov %eax, boot_pml4 + 511 * 8

    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax  /* PAE, OSFXSR, OSXMMEXCPT: user code may use SSE */
    mov %eax, %cr4
    mov $0xc0000080, %ecx                    /* EFER */
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax         /* LME, NXE */
    wrmsr
    mov %cr0, %eax
    and $~(1 << 2), %eax                     /* EM off */
    or $((1 << 31) | (1 << 16) | (1 << 1) | 1), %eax  /* PG, WP, MP, PE */
    mov %eax, %cr0

    mov %ebp, %edi                           /* magic and boot information for kernel_main */
    mov %ebx, %esi
    lgdt boot_gdt_pointer
    ljmp $0x08, $long_mode_entry

no_long_mode:
    mov $no_long_mode_message, %esi
2:  movb (%esi), %al
    test %al, %al
    jz 3f
    mov $0x3f8, %dx
    outb %al, %dx
    inc %esi
    jmp 2b
3:  hlt
    jmp 3b

    .code64
long_mode_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    movabs $boot_stack_top, %rsp
    movabs $kernel_entry, %rax
    jmp *%rax

    .section .boot.rodata, "a"
no_long_mode_message:
    .asciz "boot: this CPU has no 64-bit long mode; Sonde needs x86-64\r\n"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00209a0000000000                 /* 0x08: 64-bit code */
    .quad 0x0000920000000000                 /* 0x10: data */
boot_gdt_end:
boot_gdt_pointer:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .boot.bss, "aw", @nobits
    .balign 4096
    .globl boot_pml4
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096
boot_stack_phys: .skip 1024
boot_stack_top_phys:

    .text
kernel_entry:
    /* rdi = multiboot2 magic, rsi = boot information (physical) */
    xor %rbp, %rbp
    call kernel_main
4:  cli
    hlt
    jmp 4b

    /* The kernel stack, with an unmapped guard page below it (memory.cpp leaves it out of
       the kernel's page tables), so an overflow faults instead of overwriting .bss. */
    .section .bss.kernel_stack, "aw", @nobits
    .balign 4096
    .globl kernel_stack_guard
kernel_stack_guard:
    .skip 4096
    .globl boot_stack_bottom
boot_stack_bottom:
    .skip 32768
    .globl boot_stack_top
boot_stack_top:
