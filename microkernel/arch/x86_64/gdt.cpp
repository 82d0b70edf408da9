// SPDX-License-Identifier: MIT
// GDT and TSS: kernel and user segments, the interrupt stack, and a separate double-fault stack.
#include <stdint.h>

#include "arch/x86_64/trap_frame.hpp"

namespace arch {
namespace {

struct [[gnu::packed]] TaskStateSegment {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t io_map_base;
};
static_assert(sizeof(TaskStateSegment) == 104);

struct [[gnu::packed]] DescriptorPointer {
  uint16_t limit;
  uint64_t base;
};

constexpr unsigned kCpus = 8;  // kernel::kMaxCpus

alignas(16) TaskStateSegment tss_of[kCpus];
alignas(16) uint8_t double_fault_stacks[kCpus][8192];
constexpr uint64_t kGdtTemplate[8] = {
    0,
    0x00209a0000000000,  // 0x08 kernel code, 64-bit
    0x0000920000000000,  // 0x10 kernel data
    0x0000f20000000000,  // 0x18 placeholder (32-bit user code slot for sysret's layout)
    0x0000f20000000000,  // 0x20 user data
    0x0020fa0000000000,  // 0x28 user code, 64-bit
    0,                   // 0x30 TSS (two slots)
    0,
};

alignas(16) uint64_t gdts[kCpus][8];

}  // namespace

void gdt_init(uint64_t kernel_stack_top) { gdt_init_cpu(0, kernel_stack_top); }

void* interrupt_stack_slot(unsigned cpu) {
  return reinterpret_cast<uint8_t*>(&tss_of[cpu]) + __builtin_offsetof(TaskStateSegment, rsp);
}

// Each CPU has its own GDT (its TSS descriptor's busy bit is per CPU) and TSS.
void gdt_init_cpu(unsigned cpu, uint64_t kernel_stack_top) {
  TaskStateSegment& tss = tss_of[cpu];
  uint64_t* gdt = gdts[cpu];
  for (int i = 0; i < 8; ++i) gdt[i] = kGdtTemplate[i];
  tss.rsp[0] = kernel_stack_top;
  tss.ist[0] =
      reinterpret_cast<uint64_t>(double_fault_stacks[cpu] + sizeof(double_fault_stacks[cpu]));
  tss.io_map_base = sizeof(TaskStateSegment);  // no I/O bitmap: ring 3 gets no ports

  uint64_t base = reinterpret_cast<uint64_t>(&tss);
  uint64_t limit = sizeof(TaskStateSegment) - 1;
  gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (uint64_t{0x89} << 40) |
           (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
  gdt[7] = base >> 32;

  DescriptorPointer pointer{8 * sizeof(uint64_t) - 1, reinterpret_cast<uint64_t>(gdt)};
  asm volatile(
      "lgdt %0\n"
      "pushq %1\n"
      "leaq 1f(%%rip), %%rax\n"
      "pushq %%rax\n"
      "lretq\n"
      "1:\n"
      "mov %2, %%ax\n"
      "mov %%ax, %%ds\n"
      "mov %%ax, %%es\n"
      "mov %%ax, %%ss\n"
      "ltr %w3\n"
      :
      : "m"(pointer), "i"(static_cast<uint64_t>(kKernelCode)), "i"(kKernelData), "r"(kTssSelector)
      : "rax", "memory");
}

}  // namespace arch
