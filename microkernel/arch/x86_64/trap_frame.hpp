// SPDX-License-Identifier: MIT
// TrapFrame: the registers saved on every entry to the kernel (interrupt, exception, syscall).
#pragma once

#include <stdint.h>

namespace arch {

// Layout fixed by interrupts.S: general registers pushed by the common stub (r15 lowest),
// then vector and error code, then what the CPU pushes for an interrupt (rip .. ss).
struct TrapFrame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector;
  uint64_t error_code;
  uint64_t rip, cs, rflags, rsp, ss;
};
static_assert(sizeof(TrapFrame) == 22 * 8);
// Offsets interrupts.S uses (syscall_entry and exit_to_user read and write the TCB's frame).
static_assert(__builtin_offsetof(TrapFrame, rax) == 112);
static_assert(__builtin_offsetof(TrapFrame, vector) == 120);
static_assert(__builtin_offsetof(TrapFrame, rip) == 136);
static_assert(__builtin_offsetof(TrapFrame, rflags) == 152);
static_assert(__builtin_offsetof(TrapFrame, rsp) == 160);

inline bool from_user(const TrapFrame& frame) { return (frame.cs & 3) == 3; }

// Segment selectors (gdt.cpp). The user selectors are laid out for sysret: STAR[63:48] = 0x18.
inline constexpr uint16_t kKernelCode = 0x08;
inline constexpr uint16_t kKernelData = 0x10;
inline constexpr uint16_t kUserData = 0x20 | 3;
inline constexpr uint16_t kUserCode = 0x28 | 3;
inline constexpr uint16_t kTssSelector = 0x30;

inline constexpr uint64_t kSyscallVector = 0x100;  // TrapFrame::vector for a syscall entry

void gdt_init(uint64_t kernel_stack_top);
void gdt_init_cpu(unsigned cpu, uint64_t kernel_stack_top);
// Where CPU `cpu`'s TSS.rsp0 is (unaligned): the stack an interrupt from user mode pushes onto.
void* interrupt_stack_slot(unsigned cpu);
void idt_init();
void idt_load();  // on the other CPUs: the boot CPU built the table
void timer_init(uint32_t hz);
// Masks or unmasks one legacy PIC line (0..15).
void irq_mask(unsigned irq, bool masked);
void syscall_init();

// Leaves the kernel for user mode with `frame`'s registers (a TCB's), releasing the kernel
// lock after the last read of the frame: sysretq for a frame a syscall saved, else iretq.
[[noreturn]] void exit_to_user(const TrapFrame* frame);

}  // namespace arch
