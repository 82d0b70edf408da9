// SPDX-License-Identifier: MIT
// IDT: every vector goes to a stub in interrupts.S; #DF runs on its own stack.
#include <stdint.h>

#include "arch/x86_64/trap_frame.hpp"

extern "C" const uint64_t interrupt_stub_table[256];

namespace arch {
namespace {

struct [[gnu::packed]] Gate {
  uint16_t offset_low;
  uint16_t selector;
  uint8_t ist;
  uint8_t type_attributes;
  uint16_t offset_middle;
  uint32_t offset_high;
  uint32_t reserved;
};
static_assert(sizeof(Gate) == 16);

struct [[gnu::packed]] DescriptorPointer {
  uint16_t limit;
  uint64_t base;
};

alignas(16) Gate idt[256];

constexpr uint8_t kInterruptGate = 0x8e;      // present, DPL 0, 64-bit interrupt gate
constexpr uint8_t kUserInterruptGate = 0xee;  // present, DPL 3 (int3 from user mode)
constexpr int kDoubleFault = 8;
constexpr int kBreakpoint = 3;

}  // namespace

void idt_init() {
  for (int vector = 0; vector < 256; ++vector) {
    uint64_t handler = interrupt_stub_table[vector];
    Gate& gate = idt[vector];
    gate.offset_low = handler & 0xffff;
    gate.selector = kKernelCode;
    gate.ist = vector == kDoubleFault ? 1 : 0;
    gate.type_attributes = vector == kBreakpoint ? kUserInterruptGate : kInterruptGate;
    gate.offset_middle = (handler >> 16) & 0xffff;
    gate.offset_high = static_cast<uint32_t>(handler >> 32);
    gate.reserved = 0;
  }
  idt_load();
}

void idt_load() {
  DescriptorPointer pointer{sizeof(idt) - 1, reinterpret_cast<uint64_t>(idt)};
  asm volatile("lidt %0" : : "m"(pointer));
}

}  // namespace arch
