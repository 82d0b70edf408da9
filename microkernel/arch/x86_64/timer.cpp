// SPDX-License-Identifier: MIT
// Timer: the legacy PIC remapped to vectors 32-47 and the PIT on IRQ 0.
#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/trap_frame.hpp"

extern "C" char syscall_entry[];

namespace arch {
namespace {
constexpr uint16_t kPic1Command = 0x20, kPic1Data = 0x21, kPic2Command = 0xa0, kPic2Data = 0xa1;
constexpr uint32_t kPitHz = 1193182;
}  // namespace

void timer_init(uint32_t hz) {
  // ICW1-4: cascade, vectors 32 and 40, 8086 mode; then mask everything but IRQ 0 (and 2,
  // the cascade line).
  outb(kPic1Command, 0x11);
  outb(kPic2Command, 0x11);
  outb(kPic1Data, 32);
  outb(kPic2Data, 40);
  outb(kPic1Data, 4);
  outb(kPic2Data, 2);
  outb(kPic1Data, 0x01);
  outb(kPic2Data, 0x01);
  outb(kPic1Data, 0xfa);
  outb(kPic2Data, 0xff);

  uint32_t divisor = kPitHz / hz;
  outb(0x43, 0x36);  // channel 0, lobyte/hibyte, rate generator
  outb(0x40, divisor & 0xff);
  outb(0x40, (divisor >> 8) & 0xff);
}

void irq_mask(unsigned irq, bool masked) {
  uint16_t port = irq < 8 ? kPic1Data : kPic2Data;
  uint8_t bit = static_cast<uint8_t>(1u << (irq % 8));
  uint8_t mask = inb(port);
  outb(port, masked ? (mask | bit) : (mask & ~bit));
}

void interrupt_acknowledge(uint64_t vector) {
  if (vector >= 40) outb(kPic2Command, 0x20);
  outb(kPic1Command, 0x20);
}

void syscall_init() {
  write_msr(kMsrEfer, read_msr(kMsrEfer) | 1);  // SCE
  // STAR: kernel CS in 47:32; sysret bases in 63:48 (user CS = base + 16, SS = base + 8).
  write_msr(kMsrStar, (uint64_t{0x18 | 3} << 48) | (uint64_t{kKernelCode} << 32));
  write_msr(kMsrLstar, reinterpret_cast<uint64_t>(syscall_entry));
  // Clear IF, TF, DF, AC on entry: the kernel is not preemptible.
  write_msr(kMsrSfmask, (1u << 9) | (1u << 8) | (1u << 10) | (1u << 18));
}

}  // namespace arch
