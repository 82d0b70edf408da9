// SPDX-License-Identifier: MIT
// COM1 (0x3f8) at 115200 8N1, polled: simple, and safe to use from a panic.
#include "arch/x86_64/serial.hpp"

#include "arch/x86_64/cpu.hpp"

namespace arch {
namespace {
constexpr uint16_t kCom1 = 0x3f8;
}

void serial_init() {
  outb(kCom1 + 1, 0x00);  // no interrupts
  outb(kCom1 + 3, 0x80);  // divisor latch
  outb(kCom1 + 0, 0x01);  // 115200 baud
  outb(kCom1 + 1, 0x00);
  outb(kCom1 + 3, 0x03);  // 8 bits, no parity, one stop bit
  outb(kCom1 + 2, 0xc7);  // FIFO on, cleared
  outb(kCom1 + 4, 0x03);  // DTR, RTS
}

void serial_put(char c) {
  if (c == '\n') serial_put('\r');
  for (int spins = 0; spins < 100000 && (inb(kCom1 + 5) & 0x20) == 0; ++spins) {
  }
  outb(kCom1, static_cast<uint8_t>(c));
}

}  // namespace arch
