// SPDX-License-Identifier: MIT
// A root task that faults in ring 3 on purpose: the kernel must report it and end the run.
#include <stdint.h>

#include "sys/syscall.hpp"

extern "C" int main() {
  sys::print("user-fault: writing to my own code page on purpose\n");
  volatile uint8_t* code = reinterpret_cast<volatile uint8_t*>(&main);
  *code = 0xcc;
  sys::print("user-fault: the write to read-only code was not stopped\n");
  return 0;
}
