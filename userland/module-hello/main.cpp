// SPDX-License-Identifier: MIT
// A native program the kernel suite starts from a boot module in its own VSpace and CSpace:
// it says hello and sends one word through the endpoint cap the root put in its slot 1.
#include "sys/ipc.hpp"
#include "sys/syscall.hpp"

extern "C" int main() {
  sys::print("module-hello: running in my own address space\n");
  sys::MessageRegisters mr;
  mr.word[0] = 0x4e110;
  (void)sys::send(1, 1, mr, 1);
  return 0;
}
