// SPDX-License-Identifier: MIT
// The pool of Reply objects, answers to system calls and power-off.
#include "task/replies.hpp"

#include <string.h>

#include "platform/kernel.hpp"
#include "sys/syscall.hpp"
#include "tty/console.hpp"

namespace posix {

namespace {

using abi::Error;

uint64_t receiving = 0;
uint64_t pool[256];
int pool_count = 0;
uint64_t exit_port_cap = 0;

}  // namespace

void init_replies(uint64_t first) { receiving = first; }

uint64_t receive_reply() { return receiving; }

uint64_t detach_receive_reply() {
  uint64_t taken = receiving;
  if (pool_count > 0) {
    receiving = pool[--pool_count];
  } else {
    auto made = platform::make_object(abi::ObjectType::kReply);
    receiving = made.ok() ? made.value() : 0;
    if (receiving == 0) tty::log("posix: out of memory for Reply objects\n");
  }
  return taken;
}

void return_reply(uint64_t reply) {
  if (reply == 0) return;
  if (pool_count < 256) {
    pool[pool_count++] = reply;
  }
}

void answer(uint64_t reply, const SyscallContext& context, int64_t result) {
  sys::MessageRegisters mr;
  if (context.replace_registers) {
    abi::UserRegisters registers = context.registers;
    registers.rax = static_cast<uint64_t>(result);
    uint64_t words[abi::kUserRegisterWords];
    memcpy(words, &registers, sizeof(words));
    sys::load_message(mr, words, abi::kUserRegisterWords);
    (void)sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSetRegisters), mr,
                    abi::kUserRegisterWords);
    return;
  }
  mr.word[0] = static_cast<uint64_t>(result);
  (void)sys::send(reply, static_cast<uint64_t>(abi::FaultReply::kSetResult), mr, 1);
}

void init_power(uint64_t exit_ports) { exit_port_cap = exit_ports; }

void power_off(int status) {
  if (exit_port_cap != 0) {
    // isa-debug-exit at 0xf4: QEMU exits with (value << 1) | 1.
    uint64_t words[] = {0xf4, static_cast<uint64_t>(status == 0 ? 0 : 1)};
    (void)sys::invoke(exit_port_cap, abi::Label::kIoPortsOut32, words);
  }
  tty::log("posix: power off\n");
  for (;;) sys::thread_exit(0);
}

}  // namespace posix
